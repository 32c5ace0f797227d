import AudioInput
import MAST
import Foundation

/// The daemon's configuration: config.yaml at the repository root documents every key, with
/// these defaults. Command-line flags override the file.
public struct TaggerConfig: Codable, Equatable, Sendable {
    /// Model file; empty means the model installed with mast-tagger.
    public var model = ""
    /// Worker threads for inference. One suits the streaming models: a window takes a few
    /// milliseconds, and a second thread costs more CPU than it saves in time.
    public var threads = 1
    /// Linear-layer arithmetic: `auto` (int8 where the CPU has AVX2, else f32), `f32` or `int8`.
    public var precision = "auto"
    public var input = Input()
    public var windows = Windows()
    public var events = EventDecoderConfig()
    public var tags = Tags()
    public var output = Output()

    public init() {}

    public struct Input: Codable, Equatable, Sendable {
        /// `alsa:DEVICE` (default, hw:CARD=…,DEV=…, plughw:…), `wav:PATH` or `stdin`.
        public var source = "alsa:default"
        /// `mix` averages all channels; a number picks one channel (0 is the first).
        public var channel = "mix"
        /// Capture rate to ask the device for; audio is resampled to the model's rate when it differs.
        public var rate = 16000
        /// Audio buffered between capture and the feature stage, in seconds.
        public var bufferSeconds = 4.0
        /// Read wav input at real time (true) or as fast as possible (false).
        public var realtime = true
        /// Raw PCM on stdin: sample format (s16le, s32le, f32le), rate and channels.
        public var stdinFormat = "s16le"
        public var stdinRate = 16000
        public var stdinChannels = 1
        /// Reopen a capture device that has delivered nothing for this many seconds.
        public var watchdogSeconds = 5.0
        /// Back-off between attempts to open a missing device: first delay, doubling up to the maximum.
        public var retryInitialSeconds = 0.5
        public var retryMaxSeconds = 30.0

        enum CodingKeys: String, CodingKey {
            case source, channel, rate, realtime
            case bufferSeconds = "buffer_seconds"
            case stdinFormat = "stdin_format", stdinRate = "stdin_rate", stdinChannels = "stdin_channels"
            case watchdogSeconds = "watchdog_seconds"
            case retryInitialSeconds = "retry_initial_seconds", retryMaxSeconds = "retry_max_seconds"
        }
    }

    public struct Windows: Codable, Equatable, Sendable {
        /// Seconds between window starts (a multiple of 10 ms).
        public var hop = 1.0
        /// Windows that may wait for the model before the oldest is dropped.
        public var queue = 2
    }

    public struct Tags: Codable, Equatable, Sendable {
        /// With k > 0, a `tags` record with the k best classes of every window.
        public var topK = 0
        /// Classes below this probability are left out of `tags` records.
        public var minScore: Float = 0.1

        enum CodingKeys: String, CodingKey {
            case topK = "top_k", minScore = "min_score"
        }
    }

    public struct Output: Codable, Equatable, Sendable {
        /// `stdout` or `unix:PATH` (a Unix domain socket every client of which gets every record).
        public var target = "stdout"
        public var format = OutputFormat.jsonl
        /// Permissions of the socket file, octal.
        public var socketMode = "0660"

        enum CodingKeys: String, CodingKey {
            case target, format
            case socketMode = "socket_mode"
        }
    }

    /// Maps whose keys are the user's own, not configuration keys.
    public static let freeFormPaths: Set<String> = ["events.classes", "events.groups"]

    public static var loader: ConfigLoader<TaggerConfig> {
        ConfigLoader(defaults: TaggerConfig(), freeFormPaths: freeFormPaths) { try $0.validate() }
    }

    /// The engine precision `precision` asks for on this CPU.
    public func matrixPrecision() throws -> MatrixPrecision {
        switch precision {
        case "auto": return Engine.int8Supported ? .int8 : .float32
        case "int8" where !Engine.int8Supported:
            throw ConfigError(key: "precision", reason: "int8 needs \(Engine.int8Requirement); this one is not (use f32 or auto)")
        default:
            guard let chosen = MatrixPrecision(rawValue: precision) else {
                throw ConfigError(key: "precision", reason: "'\(precision)' is not auto, f32 or int8")
            }
            return chosen
        }
    }

    /// Ranges and formats; each failure names its key. (Event names are checked against the
    /// model's classes when the pipeline is built.)
    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigError(key: key, reason: reason) }
        }
        try require(threads >= 1, "threads", "must be at least 1")
        _ = try matrixPrecision()
        try require(input.rate > 0, "input.rate", "must be positive")
        try require(input.bufferSeconds > 0, "input.buffer_seconds", "must be positive")
        try require(input.stdinRate > 0, "input.stdin_rate", "must be positive")
        try require(input.stdinChannels > 0, "input.stdin_channels", "must be positive")
        try require(input.watchdogSeconds > 0, "input.watchdog_seconds", "must be positive")
        try require(input.retryInitialSeconds > 0, "input.retry_initial_seconds", "must be positive")
        try require(input.retryMaxSeconds >= input.retryInitialSeconds, "input.retry_max_seconds",
                    "must be at least retry_initial_seconds")
        _ = try input.channelSelection()
        _ = try StreamTagger.Settings(config: self)
        try require(output.target == "stdout" || output.target.hasPrefix("unix:") && output.target.count > 5,
                    "output.target", "'\(output.target)' is neither stdout nor unix:PATH")
        try require(mode_t(output.socketMode, radix: 8).map { $0 <= 0o777 } ?? false, "output.socket_mode",
                    "'\(output.socketMode)' is not an octal mode like 0660")
    }
}

extension StreamTagger.Settings {
    /// The pipeline settings a configuration asks for, for a model whose frames are 10 ms apart
    /// at `sampleRate`.
    public init(config: TaggerConfig, frameShiftSeconds: Double = 0.01) throws {
        let frames = config.windows.hop / frameShiftSeconds
        guard frames >= 1, abs(frames - frames.rounded()) < 1e-6 else {
            throw ConfigError(key: "windows.hop", reason: "\(config.windows.hop) s is not a positive multiple of \(frameShiftSeconds) s")
        }
        guard config.windows.queue >= 1 else { throw ConfigError(key: "windows.queue", reason: "must be at least 1") }
        guard config.tags.topK >= 0 else { throw ConfigError(key: "tags.top_k", reason: "must not be negative") }
        self.init(hopFrames: Int(frames.rounded()))
        queueCapacity = config.windows.queue
        tagsTopK = config.tags.topK
        tagsMinScore = config.tags.minScore
        decoder = config.events
    }
}

extension TaggerConfig.Input {
    /// `channel`: "mix" or a channel index.
    public func channelSelection() throws -> ChannelSelection {
        if channel == "mix" { return .average }
        guard let index = Int(channel), index >= 0 else {
            throw ConfigError(key: "input.channel", reason: "'\(channel)' is neither \"mix\" nor a channel number (0, 1, …)")
        }
        return .channel(index)
    }
}

/// A configuration value that parsed but makes no sense, with its key.
public struct ConfigError: Error, CustomStringConvertible {
    public let key: String
    public let reason: String
    public var description: String { "\(key): \(reason)" }
}
