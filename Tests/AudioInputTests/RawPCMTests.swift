import Foundation
import XCTest

@testable import AudioInput

final class RawPCMTests: XCTestCase {
    private let log = CapturedLog()

    /// A pipe whose write end is fed by a thread in `pieces` byte counts (cycled), then closed.
    private func pipeFed(with bytes: [UInt8], pieces: [Int], pause: useconds_t = 0) -> Int32 {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let writeEnd = ends[1]
        let writer = Thread {
            var offset = 0
            var piece = 0
            while offset < bytes.count {
                let n = min(pieces[piece % pieces.count], bytes.count - offset)
                let written = bytes[offset..<(offset + n)].withUnsafeBytes { write(writeEnd, $0.baseAddress!, n) }
                if written > 0 { offset += written }
                piece += 1
                if pause > 0 { usleep(pause) }
            }
            close(writeEnd)
        }
        writer.start()
        let readEnd = ends[0]
        addTeardownBlock { close(readEnd) }
        return readEnd
    }

    /// Reads that end mid-frame keep the partial frame for the next read; whole frames come out
    /// in order; a partial frame at end of input is dropped with a warning.
    func testPartialReadsAndTrailingBytes() throws {
        let samples = pseudoRandomInt16(count: 2000, seed: 11)
        let bytes = littleEndianBytes(samples) + [0xAB, 0xCD]          // 500 stereo frames + half a frame
        let fd = pipeFed(with: bytes, pieces: [1, 3, 5, 7, 11, 401], pause: 10)
        let format = AudioFormat(sampleFormat: .s16LE, sampleRate: 48000, channels: 2)
        let reader = try RawPCMReader(fileDescriptor: fd, format: format, name: "stdin", logger: log.logger)
        var raw = [UInt8](repeating: 0, count: 64 * 4)
        var collected: [UInt8] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let frames = try raw.withUnsafeMutableBytes { try reader.readFrames(into: $0.baseAddress!, maxFrames: 64) }
            if frames == 0 { break }
            XCTAssertLessThanOrEqual(frames, 64)
            collected += raw[0..<(frames * 4)]
        }
        XCTAssertEqual(collected, littleEndianBytes(samples))
        XCTAssertEqual(reader.framesRead, 1000)
        XCTAssertEqual(reader.trailingBytes, 2)
        XCTAssertTrue(log.contains(.warning, "stdin", "2 trailing byte(s)"), "\(log.messages)")
        XCTAssertEqual(try raw.withUnsafeMutableBytes { try reader.readFrames(into: $0.baseAddress!, maxFrames: 64) }, 0)
    }

    /// `arecord -f S16_LE -r 48000 -c 2 | …` in miniature: the source downmixes and resamples to
    /// 16 kHz exactly as the one-shot path does, and finishes the ring at end of input.
    func testSourceResamplesPipeToRing() throws {
        let samples = pseudoRandomInt16(count: 2 * 24000, seed: 12)
        let fd = pipeFed(with: littleEndianBytes(samples), pieces: [4093, 17, 8192])
        let format = AudioFormat(sampleFormat: .s16LE, sampleRate: 48000, channels: 2)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        let source = RawPCMSource(reader: try RawPCMReader(fileHandle: handle, format: format, name: "stdin", logger: log.logger),
                                  logger: log.logger)
        let ring = try RingBuffer(capacity: 2048)   // far smaller than the stream: backpressure must wait, not drop
        try source.start(into: ring)
        let output = drain(ring)
        source.stop()

        let mono = stride(from: 0, to: samples.count, by: 2).map { Float(Int32(samples[$0]) + Int32(samples[$0 + 1])) / 65536 }
        let resampler = try Resampler(inputRate: 48000, outputRate: 16000)
        XCTAssertTrue(output == resampler.process(mono) + resampler.flush(), "pipe output differs from the one-shot path")
        XCTAssertEqual(output.count, 8000)
        XCTAssertEqual(ring.overrunSamples, 0)
        XCTAssertEqual(source.statistics.snapshot().framesCaptured, 24000)
        XCTAssertNil(source.lastError)
        XCTAssertEqual(source.sampleRate, 16000)
    }

    /// A writer that stays silent: stop() still returns within a second, and the ring is finished.
    func testStopWhileWriterIsSilent() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]); close(ends[1]) }
        let format = AudioFormat(sampleFormat: .s16LE, sampleRate: 16000, channels: 1)
        let source = RawPCMSource(reader: try RawPCMReader(fileDescriptor: ends[0], format: format, name: "stdin", logger: log.logger),
                                  options: .init(backpressure: .drop), logger: log.logger)
        let ring = try RingBuffer(capacity: 100)
        try source.start(into: ring)
        usleep(100_000)
        let start = Date()
        source.stop()
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertTrue(ring.isFinished)
        XCTAssertThrowsError(try source.start(into: ring)) { error in
            XCTAssertEqual((error as? AudioInputError)?.kind, .alreadyStarted)
        }
    }

    func testInvalidFormatNamesTheInput() {
        let cases = [(0, 16000, "0 channels"), (1_000_000, 16000, "1000000 channels"), (1, 99_999_989, "99999989 Hz")]
        for (channels, rate, fragment) in cases {
            let format = AudioFormat(sampleFormat: .s16LE, sampleRate: rate, channels: channels)
            XCTAssertThrowsError(try RawPCMReader(fileDescriptor: 0, format: format, name: "stdin", logger: log.logger)) { error in
                XCTAssertTrue("\(error)".hasPrefix("stdin: ") && "\(error)".contains(fragment), "\(error)")
            }
        }
    }
}
