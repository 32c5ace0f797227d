import Foundation
import XCTest

@testable import AudioInput

final class RingBufferTests: XCTestCase {
    func testRejectsZeroCapacity() {
        XCTAssertThrowsError(try RingBuffer(capacity: 0)) { error in
            XCTAssertEqual((error as? AudioInputError)?.kind, .invalidArgument)
        }
    }

    /// Many writes and reads of odd sizes through a small ring: every sample comes back in
    /// order at its stream position, across the wrap point.
    func testSingleThreadWraparound() throws {
        let ring = try RingBuffer(capacity: 7)
        var next: Float = 0
        var expected: Float = 0
        for step in 0..<200 {
            let n = step % 5 + 1
            let accepted = ring.write((0..<n).map { next + Float($0) })
            XCTAssertEqual(accepted, n)
            next += Float(n)
            while let (chunk, position) = ring.read(maxCount: step % 3 + 1) {
                XCTAssertEqual(position, UInt64(expected))
                XCTAssertEqual(chunk, (0..<chunk.count).map { expected + Float($0) })
                expected += Float(chunk.count)
            }
        }
        XCTAssertEqual(expected, next)
        XCTAssertEqual(ring.overrunSamples, 0)
        XCTAssertEqual(ring.samplesWritten, UInt64(next))
    }

    /// A full ring keeps what it has, drops the new samples, counts them, and the next sample
    /// accepted after the drop is read at its true stream position.
    func testOverrunDropsNewSamplesAndKeepsPositions() throws {
        let ring = try RingBuffer(capacity: 4)
        XCTAssertEqual(ring.write([0, 1, 2]), 3)
        XCTAssertEqual(ring.write([3, 4, 5]), 1)        // 4, 5 dropped
        XCTAssertEqual(ring.overrunSamples, 2)
        XCTAssertEqual(ring.freeSpace, 0)
        XCTAssertEqual(ring.write([6]), 0)               // 6 dropped
        XCTAssertEqual(ring.overrunSamples, 3)

        let first = try XCTUnwrap(ring.read(maxCount: 10))
        XCTAssertEqual(first.samples, [0, 1, 2, 3])
        XCTAssertEqual(first.streamPosition, 0)
        XCTAssertEqual(ring.nextReadPosition, 4)         // the gap is not recorded until a sample follows it

        XCTAssertEqual(ring.write([7, 8]), 2)
        XCTAssertEqual(ring.nextReadPosition, 7)
        let second = try XCTUnwrap(ring.read(maxCount: 10))
        XCTAssertEqual(second.samples, [7, 8])
        XCTAssertEqual(second.streamPosition, 7)
        XCTAssertNil(ring.read(maxCount: 10))
    }

    /// A read stops at a gap so each chunk is contiguous in the stream; `skip` declares missing
    /// time and is counted apart from overruns.
    func testReadsStopAtGapsAndSkipAdvancesPositions() throws {
        let ring = try RingBuffer(capacity: 16)
        ring.write([0, 1])
        ring.skip(10)
        ring.write([12, 13])
        ring.skip(2)
        ring.finish()
        XCTAssertEqual(ring.skippedSamples, 12)
        XCTAssertEqual(ring.overrunSamples, 0)
        var chunks: [([Float], UInt64)] = []
        while let chunk = ring.read(maxCount: 16) { chunks.append(chunk) }
        XCTAssertEqual(chunks.map(\.0), [[0, 1], [12, 13]])
        XCTAssertEqual(chunks.map(\.1), [0, 12])
        XCTAssertEqual(ring.nextReadPosition, 16)        // the trailing skip is recorded by finish()
        XCTAssertTrue(ring.isDrained)
    }

    /// When more gaps are outstanding than the gap queue holds, the producer drops rather than
    /// lose positions: every sample read is still at its true position.
    func testGapQueueFullDropsInsteadOfLosingPositions() throws {
        let ring = try RingBuffer(capacity: 1000)
        var position: Float = 0
        for _ in 0..<(RingBuffer.gapSlots * 2) {
            ring.write([position])
            ring.skip(1)
            position += 2
        }
        XCTAssertGreaterThan(ring.overrunSamples, 0)
        var read = 0
        while let (chunk, start) = ring.read(maxCount: 1000) {
            for (i, value) in chunk.enumerated() { XCTAssertEqual(value, Float(start) + Float(i)) }
            read += chunk.count
        }
        XCTAssertEqual(UInt64(read) + ring.overrunSamples, UInt64(RingBuffer.gapSlots * 2))
    }

    func testWaitForDataWakesWhenProducerWrites() throws {
        let ring = try RingBuffer(capacity: 16)
        XCTAssertFalse(ring.waitForData(timeout: 0.01))
        let writer = Thread {
            usleep(50_000)
            ring.write([1])
        }
        writer.start()
        let start = Date()
        var woke = false
        while !woke, Date().timeIntervalSince(start) < 5 { woke = ring.waitForData(timeout: 5) }
        XCTAssertTrue(woke)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        ring.finish()
        _ = ring.read(maxCount: 1)
        XCTAssertTrue(ring.waitForData(timeout: 0))
        XCTAssertTrue(ring.isDrained)
    }

    /// Producer and consumer threads, the consumer keeping up (it waits for data, the producer
    /// waits for room): every sample arrives, in order, at its position, with no overrun.
    func testTwoThreadsLosslessWhenConsumerKeepsUp() throws {
        let total = 2_000_000
        let ring = try RingBuffer(capacity: 4096)
        let producer = Thread {
            var next = 0
            var block = [Float](repeating: 0, count: 333)
            let deadline = Date().addingTimeInterval(20)
            while next < total, Date() < deadline {
                let n = min(block.count, total - next, ring.freeSpace)
                if n == 0 { sched_yield(); continue }
                for i in 0..<n { block[i] = Float(next + i) }
                let accepted = block.withUnsafeBufferPointer { ring.write(UnsafeBufferPointer(rebasing: $0[0..<n])) }
                next += accepted
            }
            ring.finish()
        }
        producer.start()
        var expected = 0
        var mismatches = 0
        var buffer = [Float](repeating: 0, count: 1000)
        let deadline = Date().addingTimeInterval(20)
        while !ring.isDrained, Date() < deadline {
            let chunk = buffer.withUnsafeMutableBufferPointer { ring.read(into: $0) }
            guard let chunk else { _ = ring.waitForData(timeout: 0.1); continue }
            if chunk.streamPosition != UInt64(expected) { mismatches += 1 }
            for i in 0..<chunk.count where buffer[i] != Float(expected + i) { mismatches += 1 }
            expected += chunk.count
        }
        XCTAssertTrue(ring.isDrained, "producer or consumer did not finish in time")
        XCTAssertEqual(expected, total)
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(ring.overrunSamples, 0)
    }

    /// A producer that never waits and a consumer that reads slowly: samples are dropped, the
    /// overrun count equals exactly what was not delivered, and every delivered sample is at its
    /// true stream position (values encode positions).
    func testTwoThreadsCountOverrunsExactlyWhenConsumerFallsBehind() throws {
        let total = 1_000_000
        let ring = try RingBuffer(capacity: 1024)
        let producer = Thread {
            var block = [Float](repeating: 0, count: 256)
            var next = 0
            while next < total {
                let n = min(block.count, total - next)
                for i in 0..<n { block[i] = Float(next + i) }
                _ = block.withUnsafeBufferPointer { ring.write(UnsafeBufferPointer(rebasing: $0[0..<n])) }
                next += n
            }
            ring.finish()
        }
        producer.start()
        var delivered = 0
        var wrong = 0
        var lastPosition: Int = -1
        var buffer = [Float](repeating: 0, count: 100)
        let deadline = Date().addingTimeInterval(20)
        while !ring.isDrained, Date() < deadline {
            let chunk = buffer.withUnsafeMutableBufferPointer { ring.read(into: $0) }
            guard let chunk else { _ = ring.waitForData(timeout: 0.1); continue }
            let start = Int(chunk.streamPosition)
            if start <= lastPosition { wrong += 1 }
            for i in 0..<chunk.count where buffer[i] != Float(start + i) { wrong += 1 }
            lastPosition = start + chunk.count - 1
            delivered += chunk.count
            if delivered % 2000 < 100 { usleep(200) }   // fall behind now and then
        }
        XCTAssertTrue(ring.isDrained, "did not finish in time")
        XCTAssertEqual(wrong, 0)
        XCTAssertGreaterThan(ring.overrunSamples, 0, "the consumer never fell behind; the test proves nothing")
        XCTAssertEqual(UInt64(delivered) + ring.overrunSamples, UInt64(total))
        XCTAssertLessThanOrEqual(ring.nextReadPosition, UInt64(total))
    }
}
