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
    /// Linear-layer arithmetic.
    public var precision = Precision.auto
    public var input = Input()
    public var windows = Windows()
    public var events = EventDecoderConfig()
    public var tags = Tags()
    public var output = Output()
    /// This tagger's name, for several on one box (`mast-tagger@NAME`): records carry it as
    /// `source`. Empty: the input (`alsa:default`).
    public var name = ""
    public var mqtt = MQTT()
    public var http = HTTP()
    public var clips = Clips()

    public init() {}

    /// Who made a record, carried in every JSON record of `run`: the node and the input's name.
    public var origin: RecordOrigin {
        RecordOrigin(node: mqtt.resolvedNode(name: name), source: name.isEmpty ? input.source.description : name)
    }

    /// `precision`: `auto` (int8 where the CPU has AVX2, else f32), `f32` or `int8`.
    public enum Precision: String, ConfigWord, Equatable, Sendable {
        case auto, f32, int8

        public static let key = "precision"
    }

    public struct Input: Codable, Equatable, Sendable {
        /// `alsa:DEVICE` (default, hw:CARD=…,DEV=…, plughw:…), `wav:PATH` or `stdin`.
        public var source = InputSource.alsa(device: "default")
        /// `mix` averages all channels; a number picks one channel (0 is the first).
        public var channel = ChannelSelection.average
        /// Capture rate to ask the device for; audio is resampled to the model's rate when it differs.
        public var rate = 16000
        /// Audio buffered between capture and the feature stage, in seconds.
        public var bufferSeconds = 4.0
        /// Read wav input at real time (true) or as fast as possible (false).
        public var realtime = true
        /// Raw PCM on stdin: sample format (s16le, s32le, f32le), rate and channels.
        public var stdinFormat = SampleFormat.s16LE
        public var stdinRate = 16000
        public var stdinChannels = 1
        /// Raw PCM on stdin is live (a capture piped in): windows the model cannot keep up with
        /// are dropped and counted. Otherwise (a recording) the input waits for the model.
        public var stdinLive = false
        /// Reopen a capture device that has delivered nothing for this many seconds.
        public var watchdogSeconds = 5.0
        /// Back-off between attempts to open a missing device: first delay, doubling up to the maximum.
        public var retryInitialSeconds = 0.5
        public var retryMaxSeconds = 30.0

        enum CodingKeys: String, CodingKey {
            case source, channel, rate, realtime
            case bufferSeconds = "buffer_seconds"
            case stdinFormat = "stdin_format", stdinRate = "stdin_rate", stdinChannels = "stdin_channels", stdinLive = "stdin_live"
            case watchdogSeconds = "watchdog_seconds"
            case retryInitialSeconds = "retry_initial_seconds", retryMaxSeconds = "retry_max_seconds"
        }

        /// Whether this input is live audio, which must not be held up: windows the model cannot
        /// keep up with are dropped (and counted). A file, or a pipe that is not live, waits for
        /// the model instead, so nothing is lost.
        public var isLive: Bool {
            switch source {
            case .alsa: true
            case .wav: realtime
            case .stdin: stdinLive
            }
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
        public var target = OutputTarget.stdout
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
        case .auto: return Engine.int8Supported ? .int8 : .float32
        case .f32: return .float32
        case .int8:
            guard Engine.int8Supported else {
                throw ConfigError(key: "precision", reason: "int8 needs \(Engine.int8Requirement); this one is not (use f32 or auto)")
            }
            return .int8
        }
    }

    /// The engine options a model loaded for this configuration computes with.
    public func engineOptions() throws -> EngineOptions {
        EngineOptions(threads: threads, precision: try matrixPrecision())
    }

    /// Every numeric key's range (config.yaml documents them). Each bound keeps a value from a
    /// few bytes of YAML away from a trap in a conversion to Int or an allocation of gigabytes.
    public enum Limits {
        public static let threads = 1 ... 64
        public static let rate = AudioFormat.rates
        public static let bufferSeconds = 0.1 ... 600.0
        public static let stdinChannels = AudioFormat.channelCounts
        public static let deviceSeconds = 0.01 ... 3600.0
        public static let hopSeconds = 0.01 ... 60.0
        public static let queue = 1 ... 100
        public static let topK = 0 ... 1000
    }

    /// Ranges and formats; each failure names its key. (Event names are checked against the
    /// model's classes when the pipeline is built.)
    public func validate() throws {
        let require = RangeCheck()
        try require(threads, in: Limits.threads, "threads")
        _ = try matrixPrecision()
        try require(input.rate, in: Limits.rate, "input.rate", " Hz")
        try require(input.bufferSeconds, in: Limits.bufferSeconds, "input.buffer_seconds", " s")
        try require(input.stdinRate, in: Limits.rate, "input.stdin_rate", " Hz")
        try require(input.stdinChannels, in: Limits.stdinChannels, "input.stdin_channels")
        try require(input.watchdogSeconds, in: Limits.deviceSeconds, "input.watchdog_seconds", " s")
        try require(input.retryInitialSeconds, in: Limits.deviceSeconds, "input.retry_initial_seconds", " s")
        try require(input.retryMaxSeconds, in: input.retryInitialSeconds ... Limits.deviceSeconds.upperBound,
                    "input.retry_max_seconds", " s (at least retry_initial_seconds)")
        try events.validateValues()
        _ = try StreamTagger.Settings(config: self)
        guard let mode = mode_t(output.socketMode, radix: 8), mode <= 0o777 else {
            throw ConfigError(key: "output.socket_mode", reason: "'\(output.socketMode)' is not an octal mode like 0660")
        }
        if !name.isEmpty { try MQTT.checkTopicLevels(name, key: "name", single: true) }
        try mqtt.validate()
        try http.validate()
        try clips.validate()
    }
}

extension StreamTagger.Settings {
    /// The pipeline settings a configuration asks for, for a model whose frames are 10 ms apart
    /// at `sampleRate`.
    public init(config: TaggerConfig, frameShiftSeconds: Double = 0.01) throws {
        let hop = config.windows.hop, limits = TaggerConfig.Limits.self
        // Checked before the division's result becomes an Int: 1e30 or NaN would trap there.
        guard limits.hopSeconds.contains(hop), abs(hop / frameShiftSeconds - (hop / frameShiftSeconds).rounded()) < 1e-6 else {
            throw ConfigError(key: "windows.hop", reason: "\(hop) s is not a multiple of \(frameShiftSeconds) s within \(limits.hopSeconds.lowerBound)…\(limits.hopSeconds.upperBound) s")
        }
        let frames = hop / frameShiftSeconds
        guard limits.queue.contains(config.windows.queue) else {
            throw ConfigError(key: "windows.queue", reason: "must be within \(limits.queue.lowerBound)…\(limits.queue.upperBound), got \(config.windows.queue)")
        }
        guard limits.topK.contains(config.tags.topK) else {
            throw ConfigError(key: "tags.top_k", reason: "must be within \(limits.topK.lowerBound)…\(limits.topK.upperBound), got \(config.tags.topK)")
        }
        guard (0 ... 1).contains(config.tags.minScore) else {
            throw ConfigError(key: "tags.min_score", reason: "must be within 0…1, got \(config.tags.minScore)")
        }
        self.init(hopFrames: Int(frames.rounded()))
        queueCapacity = config.windows.queue
        tagsTopK = config.tags.topK
        tagsMinScore = config.tags.minScore
        decoder = config.events
    }
}
