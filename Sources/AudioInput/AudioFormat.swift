import Foundation

/// The sample encodings the readers and ALSA capture understand. All are little-endian and
/// interleaved; the raw value is the ALSA / arecord spelling (`arecord -f S16_LE`).
public enum SampleFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case s16LE = "S16_LE"
    /// 24-bit signed packed in 3 bytes (24-bit WAV files, many USB microphones on `hw:`).
    case s24_3LE = "S24_3LE"
    case s32LE = "S32_LE"
    case float32LE = "FLOAT_LE"

    public var bytesPerSample: Int {
        switch self {
        case .s16LE: 2
        case .s24_3LE: 3
        case .s32LE, .float32LE: 4
        }
    }

    public var description: String { rawValue }

    /// Accepts the ALSA spelling and a few common aliases (`s16le`, `f32le` as ffmpeg writes them).
    public init?(name: String) {
        let key = name.uppercased().replacingOccurrences(of: "-", with: "_")
        switch key {
        case "S16_LE", "S16LE", "S16": self = .s16LE
        case "S24_3LE", "S24LE", "S24": self = .s24_3LE
        case "S32_LE", "S32LE", "S32": self = .s32LE
        case "FLOAT_LE", "FLOAT", "F32LE", "F32_LE", "FLOAT32_LE": self = .float32LE
        default: return nil
        }
    }
}

/// The shape of an interleaved PCM stream: one frame is `channels` samples of `sampleFormat`.
public struct AudioFormat: Sendable, Equatable, CustomStringConvertible {
    public var sampleFormat: SampleFormat
    /// Frames per second.
    public var sampleRate: Int
    public var channels: Int

    public init(sampleFormat: SampleFormat, sampleRate: Int, channels: Int) {
        self.sampleFormat = sampleFormat
        self.sampleRate = sampleRate
        self.channels = channels
    }

    public var bytesPerFrame: Int { sampleFormat.bytesPerSample * channels }

    /// Rates and channel counts the readers accept (WAV headers, raw PCM, the configuration).
    /// Outside them a header is corrupt or hostile, and the buffers sized from it would take
    /// gigabytes (a 4294967295 Hz WAV asked the resampler for 297 GB).
    public static let rates = 1000 ... 768_000
    public static let channelCounts = 1 ... 64

    /// Fails unless the rate and channel count are within `rates` and `channelCounts`.
    public func check(source: String) throws {
        guard Self.channelCounts.contains(channels) else {
            throw AudioInputError(.invalidArgument, source: source,
                                  "\(channels) channels; supported are \(Self.channelCounts.lowerBound)…\(Self.channelCounts.upperBound)")
        }
        guard Self.rates.contains(sampleRate) else {
            throw AudioInputError(.invalidArgument, source: source,
                                  "a sample rate of \(sampleRate) Hz; supported are \(Self.rates.lowerBound)…\(Self.rates.upperBound) Hz")
        }
    }

    public var description: String { "\(sampleFormat) \(sampleRate) Hz \(channels) ch" }
}

/// How a multi-channel frame becomes one mono sample.
public enum ChannelSelection: Sendable, Equatable, CustomStringConvertible {
    /// The mean of all channels (a stereo pair of identical signals keeps its level).
    case average
    /// One channel, 0-based (e.g. the microphone on the left input of a stereo interface).
    case channel(Int)

    public var description: String {
        switch self {
        case .average: "average"
        case .channel(let index): "channel \(index)"
        }
    }
}
