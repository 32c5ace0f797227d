import Foundation
import XCTest

@testable import AudioInput

final class WAVFileSourceTests: XCTestCase {
    private let log = CapturedLog()

    private func makeFile(rate: Int, channels: Int, frames: Int, seed: UInt64) throws -> (path: String, samples: [Int16]) {
        let samples = pseudoRandomInt16(count: frames * channels, seed: seed)
        let url = try makeTemporaryDirectory(self).appendingPathComponent("in.wav")
        try WAVTestFile.write(WAVTestFile.bytes(tag: 1, channels: channels, rate: rate, bits: 16, data: littleEndianBytes(samples)), to: url)
        return (url.path, samples)
    }

    /// As fast as possible into a small ring: lossless (the reader waits for room), and equal to
    /// the one-shot conversion; the ring is finished at end of file.
    func testFileToRingIsLosslessAndExact() throws {
        let (path, samples) = try makeFile(rate: 44100, channels: 2, frames: 44100, seed: 21)
        let source = WAVFileSource(path: path, options: .init(channelSelection: .channel(1)), logger: log.logger)
        let ring = try RingBuffer(capacity: 1000)
        try source.start(into: ring)
        XCTAssertEqual(source.fileFormat, AudioFormat(sampleFormat: .s16LE, sampleRate: 44100, channels: 2))
        let output = drain(ring)
        source.stop()
        let right = stride(from: 1, to: samples.count, by: 2).map { Float(samples[$0]) / 32768 }
        let resampler = try Resampler(inputRate: 44100, outputRate: 16000)
        XCTAssertTrue(output == resampler.process(right) + resampler.flush())
        XCTAssertEqual(output.count, 16000)
        XCTAssertEqual(ring.overrunSamples, 0)
        XCTAssertFalse(source.isTruncated)
        XCTAssertEqual(source.statistics.snapshot().framesCaptured, 44100)
    }

    /// Paced at real time, 0.5 s of audio takes about 0.5 s of wall clock.
    func testRealTimePacing() throws {
        let (path, _) = try makeFile(rate: 16000, channels: 1, frames: 8000, seed: 22)
        let source = WAVFileSource(path: path, options: .init(realTime: true, chunkFrames: 800), logger: log.logger)
        let ring = try RingBuffer(capacity: 16000)
        let start = Date()
        try source.start(into: ring)
        let output = drain(ring)
        let elapsed = Date().timeIntervalSince(start)
        source.stop()
        XCTAssertEqual(output.count, 8000)
        XCTAssertGreaterThanOrEqual(elapsed, 0.4)
        XCTAssertLessThan(elapsed, 3)
    }

    /// stop() in the middle of a paced file returns promptly and finishes the ring.
    func testStopMidFile() throws {
        let (path, _) = try makeFile(rate: 16000, channels: 1, frames: 160_000, seed: 23)
        let source = WAVFileSource(path: path, options: .init(realTime: true), logger: log.logger)
        let ring = try RingBuffer(capacity: 160_000)
        try source.start(into: ring)
        usleep(200_000)
        let start = Date()
        source.stop()
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertTrue(ring.isFinished)
        XCTAssertLessThan(ring.samplesWritten, 160_000)
    }

    /// A file that cannot be read fails at start, synchronously, with the reader's message.
    func testStartFailsForANonWAVFile() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("notes.txt")
        try Data("not audio".utf8).write(to: url)
        let source = WAVFileSource(path: url.path, logger: log.logger)
        XCTAssertThrowsError(try source.start(into: try RingBuffer(capacity: 10))) { error in
            XCTAssertEqual((error as? AudioInputError)?.kind, .notWAV)
            XCTAssertTrue("\(error)".hasPrefix(url.path), "\(error)")
        }
    }
}
