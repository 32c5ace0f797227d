import Foundation

/// 16-bit PCM mono WAV, the clips' format: samples (±1.0 full scale) rounded to the nearest
/// 16-bit value, so audio that came from a 16-bit source is written back bit for bit.
enum WAVWriter {
    static func data(_ samples: ArraySlice<Float>, sampleRate: Int) -> Data {
        var data = Data(capacity: 44 + samples.count * 2)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data += Data("RIFF".utf8)
        append(UInt32(36 + samples.count * 2))
        data += Data("WAVEfmt ".utf8)
        append(UInt32(16)); append(UInt16(1)); append(UInt16(1))  // PCM, mono
        append(UInt32(sampleRate)); append(UInt32(sampleRate * 2)); append(UInt16(2)); append(UInt16(16))
        data += Data("data".utf8)
        append(UInt32(samples.count * 2))
        for sample in samples {
            append(pcm16(sample))
        }
        return data
    }

    /// A sample (±1.0 full scale) as the nearest 16-bit value, clipped: what both clip formats hold.
    static func pcm16(_ sample: Float) -> Int16 {
        Int16(max(-32768, min(32767, (sample * 32768).rounded())))
    }
}
