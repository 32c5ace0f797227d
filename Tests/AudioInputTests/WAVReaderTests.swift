import Foundation
import XCTest

@testable import AudioInput

final class WAVReaderTests: XCTestCase {
    private var directory: URL!
    private let log = CapturedLog()

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try WAVTestFile.write(bytes, to: url)
        return url.path
    }

    private func expectError(_ path: String, _ kind: AudioInputError.Kind, _ fragments: String...,
                             line: UInt = #line) {
        XCTAssertThrowsError(try WAVReader(path: path, logger: log.logger), line: line) { error in
            guard let error = error as? AudioInputError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(error.kind, kind, "\(error)", line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), "\(error) does not name the file", line: line)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "\(error) lacks '\(fragment)'", line: line)
            }
        }
    }

    /// Every supported encoding, mono to 3 channels, at several rates: the header is read
    /// right and the samples convert to the expected mono values exactly.
    func testEachFormat() throws {
        let int16 = pseudoRandomInt16(count: 600, seed: 1)
        let int32 = pseudoRandomInt16(count: 600, seed: 2).map { Int32($0) << 16 | 0x1234 }
        let floats = int16.map { Float($0) / 40000 }
        let int24 = int16.map { Int32($0) << 8 | 0x5A }
        let bytes24 = int24.flatMap { v in [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF)] }

        func mean(_ values: [Double], channels: Int) -> [Float] {
            stride(from: 0, to: values.count, by: channels).map { i in
                Float(values[i..<(i + channels)].reduce(0, +) / Double(channels))
            }
        }
        struct Case {
            let name: String
            let bytes: [UInt8]
            let format: AudioFormat
            let mono: [Float]
        }
        let cases = [
            Case(name: "s16_mono_16k",
                 bytes: WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: littleEndianBytes(int16)),
                 format: AudioFormat(sampleFormat: .s16LE, sampleRate: 16000, channels: 1),
                 mono: int16.map { Float($0) / 32768 }),
            Case(name: "s24_stereo_44k",
                 bytes: WAVTestFile.bytes(tag: 1, channels: 2, rate: 44100, bits: 24, data: bytes24),
                 format: AudioFormat(sampleFormat: .s24_3LE, sampleRate: 44100, channels: 2),
                 mono: mean(int24.map { Double($0) / 8_388_608 }, channels: 2)),
            Case(name: "s32_3ch_48k",
                 bytes: WAVTestFile.bytes(tag: 1, channels: 3, rate: 48000, bits: 32, data: littleEndianBytes(int32)),
                 format: AudioFormat(sampleFormat: .s32LE, sampleRate: 48000, channels: 3),
                 mono: mean(int32.map { Double($0) / 2_147_483_648 }, channels: 3)),
            Case(name: "float_stereo_22k",
                 bytes: WAVTestFile.bytes(tag: 3, channels: 2, rate: 22050, bits: 32, data: littleEndianBytes(floats)),
                 format: AudioFormat(sampleFormat: .float32LE, sampleRate: 22050, channels: 2),
                 mono: stride(from: 0, to: floats.count, by: 2).map { (floats[$0] + floats[$0 + 1]) * 0.5 }),
            Case(name: "extensible_float_mono_8k",
                 bytes: WAVTestFile.bytes(tag: 3, channels: 1, rate: 8000, bits: 32, data: littleEndianBytes(floats),
                                          extensible: .init(validBits: 32, subformatTag: 3)),
                 format: AudioFormat(sampleFormat: .float32LE, sampleRate: 8000, channels: 1),
                 mono: floats),
            Case(name: "extensible_24in32_stereo_96k",
                 bytes: WAVTestFile.bytes(tag: 1, channels: 2, rate: 96000, bits: 32, data: littleEndianBytes(int24.map { $0 << 8 }),
                                          extensible: .init(validBits: 24, subformatTag: 1)),
                 format: AudioFormat(sampleFormat: .s32LE, sampleRate: 96000, channels: 2),
                 mono: mean(int24.map { Double($0) / 8_388_608 }, channels: 2)),
            Case(name: "extensible_s16_6ch_48k",
                 bytes: WAVTestFile.bytes(tag: 1, channels: 6, rate: 48000, bits: 16, data: littleEndianBytes(int16),
                                          extensible: .init(validBits: 16, subformatTag: 1)),
                 format: AudioFormat(sampleFormat: .s16LE, sampleRate: 48000, channels: 6),
                 mono: mean(int16.map { Double($0) / 32768 }, channels: 6)),
        ]
        for test in cases {
            let reader = try WAVReader(path: try file(test.name + ".wav", test.bytes), logger: log.logger)
            XCTAssertEqual(reader.format, test.format, test.name)
            XCTAssertEqual(reader.declaredFrames, test.mono.count, test.name)
            let mono = try reader.readAllMono()
            XCTAssertEqual(mono.count, test.mono.count, test.name)
            let worst = zip(mono, test.mono).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-7, test.name)
            XCTAssertFalse(reader.isTruncated, test.name)
        }
    }

    /// Small reads return whole frames in order; chunks other than fmt and data (LIST, odd
    /// length, padded) are read past.
    func testStreamsInChunksAndSkipsOtherChunks() throws {
        let samples = pseudoRandomInt16(count: 1000, seed: 3)
        let bytes = WAVTestFile.bytes(tag: 1, channels: 2, rate: 48000, bits: 16, data: littleEndianBytes(samples),
                                      chunksBeforeData: [("LIST", Array("INFOISFT odd".utf8) + [1]), ("fact", WAVTestFile.le32(500))])
        let reader = try WAVReader(path: try file("chunks.wav", bytes), logger: log.logger)
        var raw = [UInt8](repeating: 0, count: 7 * 4)
        var collected: [UInt8] = []
        while true {
            let frames = try raw.withUnsafeMutableBytes { try reader.readFrames(into: $0.baseAddress!, maxFrames: 7) }
            if frames == 0 { break }
            collected += raw[0..<(frames * 4)]
        }
        XCTAssertEqual(collected, littleEndianBytes(samples))
        XCTAssertEqual(reader.framesRead, 500)
    }

    /// A data chunk shorter than declared: the frames present are delivered (a trailing partial
    /// frame is not), a warning names the file and both lengths, and the reader says so.
    func testTruncatedDataDeliversWhatIsThereAndWarns() throws {
        let samples = pseudoRandomInt16(count: 2400, seed: 4)
        // Declares 1200 stereo frames; holds 601 frames and 3 bytes of the next.
        let bytes = WAVTestFile.bytes(tag: 1, channels: 2, rate: 16000, bits: 16,
                                      data: Array(littleEndianBytes(samples)[0..<(601 * 4 + 3)]), declaredDataSize: 1200 * 4)
        let truncatedPath = try file("truncated.wav", bytes)
        let truncated = try WAVReader(path: truncatedPath, logger: log.logger)
        XCTAssertEqual(truncated.declaredFrames, 1200)
        let mono = try truncated.readAllMono(selection: .channel(0))
        XCTAssertEqual(mono, stride(from: 0, to: 601 * 2, by: 2).map { Float(samples[$0]) / 32768 })
        XCTAssertTrue(truncated.isTruncated)
        XCTAssertTrue(log.contains(.warning, truncatedPath, "truncated", "1200", "601"), "\(log.messages)")
    }

    /// Data size 0xFFFFFFFF (a streaming writer that could not seek back): read to end of file.
    func testOpenEndedDataChunkReadsToEndOfFile() throws {
        let samples = pseudoRandomInt16(count: 333, seed: 5)
        let bytes = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: littleEndianBytes(samples),
                                      declaredDataSize: 0xFFFF_FFFF)
        let reader = try WAVReader(path: try file("open.wav", bytes), logger: log.logger)
        XCTAssertNil(reader.declaredFrames)
        XCTAssertEqual(try reader.readAllMono(), samples.map { Float($0) / 32768 })
        XCTAssertFalse(reader.isTruncated)
    }

    func testNotAWAVFile() throws {
        expectError(try file("notes.wav", Array("this is a text file, not audio\n".utf8)), .notWAV,
                    "not a RIFF/WAVE file", "(starts with \"this\")")
        expectError(try file("short.txt", Array("hello".utf8)), .notWAV, "not a RIFF/WAVE file")
        var riffNotWave = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [0, 0])
        riffNotWave.replaceSubrange(8..<12, with: Array("AVI ".utf8))
        expectError(try file("avi.wav", riffNotWave), .notWAV, "RIFF")
    }

    func testEmptyFile() throws {
        expectError(try file("empty.wav", []), .emptyFile, "empty file")
    }

    func testMissingFile() {
        expectError(directory.appendingPathComponent("absent.wav").path, .io, "cannot open", "No such file")
    }

    func testTruncatedHeaders() throws {
        let whole = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [1, 2, 3, 4])
        expectError(try file("riff3.wav", Array(whole[0..<3])), .truncatedHeader, "truncated header", "12")
        expectError(try file("riffonly.wav", Array(whole[0..<12])), .truncatedHeader, "before a fmt chunk")
        expectError(try file("chunkheader.wav", Array(whole[0..<16])), .truncatedHeader, "inside a chunk header")
        expectError(try file("fmtcut.wav", Array(whole[0..<30])), .truncatedHeader, "inside the fmt chunk")
    }

    func testMissingDataChunk() throws {
        let whole = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [],
                                      chunksBeforeData: [("LIST", Array("INFO".utf8))])
        let withoutData = Array(whole[0..<(whole.count - 8)])
        var fixedSize = withoutData
        fixedSize.replaceSubrange(4..<8, with: WAVTestFile.le32(UInt32(withoutData.count - 8)))
        expectError(try file("nodata.wav", fixedSize), .missingDataChunk, "no data chunk")
    }

    func testUnsupportedFormats() throws {
        let mp3 = WAVTestFile.bytes(tag: 0x55, channels: 2, rate: 44100, bits: 0, data: [])
        expectError(try file("mp3.wav", mp3), .unsupportedFormat, "unsupported format tag 0x0055 (MPEG Layer 3)")
        let pcm8 = WAVTestFile.bytes(tag: 1, channels: 1, rate: 8000, bits: 8, data: [128, 128])
        expectError(try file("u8.wav", pcm8), .unsupportedFormat, "8 bits")
        let double = WAVTestFile.bytes(tag: 3, channels: 1, rate: 8000, bits: 64, data: [UInt8](repeating: 0, count: 8))
        expectError(try file("f64.wav", double), .unsupportedFormat, "float sample size 64 bits")
        let extensibleALaw = WAVTestFile.bytes(tag: 6, channels: 1, rate: 8000, bits: 8, data: [0],
                                               extensible: .init(validBits: 8, subformatTag: 6))
        expectError(try file("alaw.wav", extensibleALaw), .unsupportedFormat, "0x0006 (A-law)")
    }

    func testInconsistentHeader() throws {
        var zeroChannels = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [0, 0])
        zeroChannels.replaceSubrange(22..<24, with: [0, 0])
        expectError(try file("zero.wav", zeroChannels), .invalidHeader, "declares 0 channels")
        var badAlign = WAVTestFile.bytes(tag: 1, channels: 2, rate: 16000, bits: 16, data: [0, 0, 0, 0])
        badAlign.replaceSubrange(32..<34, with: [3, 0])
        expectError(try file("align.wav", badAlign), .invalidHeader, "block align 3")
    }

    /// Header values are checked against sane limits before anything is sized from them: these
    /// files were a SIGABRT (297 GB asked of the resampler) or 4.2 GB resident before the error.
    func testHeaderValuesBeyondLimitsAreRefusedBeforeAllocating() throws {
        for rate in [4_294_967_295, 99_999_989, 999] {
            var bytes = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [0, 0])
            bytes.replaceSubrange(24..<28, with: WAVTestFile.le32(UInt32(rate)))
            expectError(try file("rate\(rate).wav", bytes), .invalidHeader, "sample rate of \(rate) Hz", "1000…768000")
        }
        var manyChannels = WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [0, 0])
        manyChannels.replaceSubrange(22..<24, with: WAVTestFile.le16(65535))
        expectError(try file("channels.wav", manyChannels), .invalidHeader, "65535 channels", "1…64")
        // A 36-byte file whose fmt chunk claims 0xFFFFFFF0 bytes.
        var hugeFormat = Array(WAVTestFile.bytes(tag: 1, channels: 1, rate: 16000, bits: 16, data: [])[0..<36])
        hugeFormat.replaceSubrange(16..<20, with: WAVTestFile.le32(0xFFFF_FFF0))
        expectError(try file("fmt.wav", hugeFormat), .invalidHeader, "fmt chunk claims 4294967280 bytes")
    }
}
