import Foundation

extension TaggerConfig {
    /// The `clips:` section: the audio of each event saved as a file. Off unless `directory` is
    /// set (a microphone's recordings are private). config.yaml documents every key.
    public struct Clips: Codable, Equatable, Sendable {
        /// Where clips go; empty: no clips. Made when missing.
        public var directory = ""
        /// Seconds of audio before the event's start and after its end.
        public var preRoll = 2.0
        public var postRoll = 2.0
        /// Seconds of the event itself at most: a longer event's clip ends this long after its
        /// start (plus `pre_roll`), without post-roll. Sizes the ring of recent audio.
        public var maxSeconds = 30.0
        /// `wav` or `flac`: 16-bit mono at the model's rate either way.
        public var format = Format.wav
        /// Retention: the oldest clips are deleted while the directory's clips pass either limit.
        public var maxMegabytes = 1000.0
        public var maxAgeDays = 30.0
        /// Labels (or ids) whose events are saved; empty: every event.
        public var labels: [String] = []

        public init() {}

        enum CodingKeys: String, CodingKey {
            case directory, format, labels
            case preRoll = "pre_roll", postRoll = "post_roll", maxSeconds = "max_seconds"
            case maxMegabytes = "max_megabytes", maxAgeDays = "max_age_days"
        }

        public var isEnabled: Bool { !directory.isEmpty }

        public enum Limits {
            public static let rollSeconds = 0.0 ... 60.0
            public static let maxSeconds = 1.0 ... 600.0
            public static let maxMegabytes = 1.0 ... 1_000_000.0
            public static let maxAgeDays = 0.01 ... 36500.0
            public static let labels = 1000
        }

        public func validate() throws {
            let require = RangeCheck(section: "clips")
            try require(preRoll, in: Limits.rollSeconds, "pre_roll")
            try require(postRoll, in: Limits.rollSeconds, "post_roll")
            try require(maxSeconds, in: Limits.maxSeconds, "max_seconds")
            try require(maxMegabytes, in: Limits.maxMegabytes, "max_megabytes")
            try require(maxAgeDays, in: Limits.maxAgeDays, "max_age_days")
            guard labels.count <= Limits.labels else {
                throw ConfigError(key: "clips.labels", reason: "more than \(Limits.labels) labels")
            }
            guard !directory.contains("\0") else { throw ConfigError(key: "clips.directory", reason: "contains NUL") }
        }

        /// A clip's file format: `wav` (16-bit PCM) or `flac` (the same samples, lossless, about
        /// half the size).
        public enum Format: String, ConfigWord, Equatable, Sendable {
            case wav, flac

            public static let key = "clips.format"

            /// The file name's extension.
            public var fileExtension: String { rawValue }
        }

        /// Whether an event of this label (or id) is saved.
        public func saves(label: String, id: String) -> Bool {
            labels.isEmpty || labels.contains(label) || labels.contains(id)
        }
    }
}
