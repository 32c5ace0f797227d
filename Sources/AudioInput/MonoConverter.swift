/// Interleaved little-endian PCM frames → mono Float in [-1, 1).
///
/// Integer formats are scaled by 2^-(bits-1) (S16 32767 → 0.99997, -32768 → -1), the same
/// scaling as torchaudio and soundfile, so features match the training pipeline. Float input
/// passes through unchanged. Averaging divides the sum by the channel count.
public struct MonoConverter: Sendable {
    public let format: SampleFormat
    public let channels: Int
    public let selection: ChannelSelection

    /// `source` names the file or device in the error when `selection` picks a channel the
    /// stream does not have.
    public init(format: SampleFormat, channels: Int, selection: ChannelSelection, source: String) throws {
        guard channels >= 1 else {
            throw AudioInputError(.invalidArgument, source: source, "channel count \(channels); need at least 1")
        }
        if case .channel(let index) = selection, !(0..<channels).contains(index) {
            throw AudioInputError(
                .invalidArgument, source: source,
                "channel \(index) selected but the stream has \(channels) channel(s) (0...\(channels - 1))")
        }
        self.format = format
        self.channels = channels
        self.selection = selection
    }

    /// Converts `frames` frames from `input` (at least `frames * channels * bytesPerSample`
    /// bytes, any alignment) into `output[0..<frames]`.
    public func convert(_ input: UnsafeRawBufferPointer, frames: Int, into output: UnsafeMutablePointer<Float>) {
        precondition(input.count >= frames * channels * format.bytesPerSample, "input shorter than \(frames) frames")
        guard frames > 0, let base = input.baseAddress else { return }
        // (first channel read, channels summed, scale applied to the sum)
        let first: Int
        let count: Int
        switch selection {
        case .average: (first, count) = (0, channels)
        case .channel(let index): (first, count) = (index, 1)
        }
        let bytes = format.bytesPerSample
        let stride = channels * bytes
        switch format {
        case .s16LE:
            let scale = 1 / (32768 * Float(count))
            for f in 0..<frames {
                var sum: Int32 = 0
                for c in first..<(first + count) {
                    sum += Int32(Int16(littleEndian: base.loadUnaligned(fromByteOffset: f * stride + c * bytes, as: Int16.self)))
                }
                output[f] = Float(sum) * scale
            }
        case .s24_3LE:
            let scale = 1 / (8_388_608 * Float(count))
            let bytePointer = base.assumingMemoryBound(to: UInt8.self)
            for f in 0..<frames {
                var sum: Int64 = 0
                for c in first..<(first + count) {
                    let p = bytePointer + f * stride + c * bytes
                    // Sign-extend the top byte; the low two are unsigned.
                    sum += Int64(Int32(p[0]) | Int32(p[1]) << 8 | Int32(Int8(bitPattern: p[2])) << 16)
                }
                output[f] = Float(sum) * scale
            }
        case .s32LE:
            // Doubles keep 32-bit integers exact before the one rounding to Float.
            let scale = 1 / (2_147_483_648 * Double(count))
            for f in 0..<frames {
                var sum: Int64 = 0
                for c in first..<(first + count) {
                    sum += Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: f * stride + c * bytes, as: Int32.self)))
                }
                output[f] = Float(Double(sum) * scale)
            }
        case .float32LE:
            let scale = 1 / Float(count)
            for f in 0..<frames {
                var sum: Float = 0
                for c in first..<(first + count) {
                    let bits = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: f * stride + c * bytes, as: UInt32.self))
                    sum += Float(bitPattern: bits)
                }
                output[f] = sum * scale
            }
        }
    }
}
