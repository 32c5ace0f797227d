import Foundation
import XCTest

@testable import AudioInput

final class MonoConverterTests: XCTestCase {
    private func convert(_ bytes: [UInt8], _ format: SampleFormat, channels: Int, _ selection: ChannelSelection) throws -> [Float] {
        let converter = try MonoConverter(format: format, channels: channels, selection: selection, source: "test")
        let frames = bytes.count / (format.bytesPerSample * channels)
        var out = [Float](repeating: .nan, count: frames)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { converter.convert(raw, frames: frames, into: $0.baseAddress!) }
        }
        return out
    }

    func testS16Scaling() throws {
        let values: [Int16] = [0, 1, -1, 16384, Int16.max, Int16.min]
        XCTAssertEqual(try convert(littleEndianBytes(values), .s16LE, channels: 1, .average),
                       values.map { Float($0) / 32768 })
    }

    func testS24PackedSignExtension() throws {
        // 0x7FFFFF, 0x800000 (most negative), 0xFFFFFF (-1), 0x000001
        let bytes: [UInt8] = [0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00]
        XCTAssertEqual(try convert(bytes, .s24_3LE, channels: 1, .average),
                       [Float(8_388_607) / 8_388_608, -1, -1 / 8_388_608, 1 / 8_388_608])
    }

    func testS32AndFloat() throws {
        let ints: [Int32] = [Int32.min, 1 << 30, -(1 << 16)]
        XCTAssertEqual(try convert(littleEndianBytes(ints), .s32LE, channels: 1, .average), [-1, 0.5, -1.0 / 32768])
        let floats: [Float] = [0.25, -0.75, 1.5]
        XCTAssertEqual(try convert(littleEndianBytes(floats), .float32LE, channels: 1, .average), floats)
    }

    /// Stereo and 3-channel frames: the average of the channels, or one chosen channel.
    func testDownmixAndChannelSelection() throws {
        let stereo: [Int16] = [1000, 3000, -2000, 0, Int16.max, Int16.max]
        let bytes = littleEndianBytes(stereo)
        XCTAssertEqual(try convert(bytes, .s16LE, channels: 2, .average), [2000.0 / 32768, -1000.0 / 32768, Float(Int16.max) / 32768])
        XCTAssertEqual(try convert(bytes, .s16LE, channels: 2, .channel(1)), [3000.0 / 32768, 0, Float(Int16.max) / 32768])
        let three: [Float] = [0.3, 0.6, 0.9, -0.3, 0, 0.3]
        let mean = try convert(littleEndianBytes(three), .float32LE, channels: 3, .average)
        XCTAssertEqual(mean[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(mean[1], 0, accuracy: 1e-6)
        XCTAssertEqual(try convert(littleEndianBytes(three), .float32LE, channels: 3, .channel(2)), [0.9, 0.3])
    }

    func testChannelOutOfRangeNamesTheSource() {
        XCTAssertThrowsError(try MonoConverter(format: .s16LE, channels: 2, selection: .channel(2), source: "hw:CARD=Mic")) { error in
            let error = error as? AudioInputError
            XCTAssertEqual(error?.kind, .invalidArgument)
            XCTAssertEqual(error?.description.hasPrefix("hw:CARD=Mic: channel 2 selected but the stream has 2 channel(s)"), true)
        }
    }

    func testFormatNames() {
        XCTAssertEqual(SampleFormat(name: "s16le"), .s16LE)
        XCTAssertEqual(SampleFormat(name: "FLOAT_LE"), .float32LE)
        XCTAssertEqual(SampleFormat(name: "f32le"), .float32LE)
        XCTAssertEqual(SampleFormat(name: "S24_3LE"), .s24_3LE)
        XCTAssertNil(SampleFormat(name: "u8"))
    }
}
