/// How per-window class scores become events (config.yaml's `events:` section; every key is
/// documented there). Labels may be named by display name or AudioSet id.
public struct EventDecoderConfig: Codable, Equatable, Sendable {
    public enum SmoothingMethod: String, Codable, Sendable {
        /// No smoothing: each window's score decides.
        case none
        /// Moving average of the last `windows` scores.
        case average
        /// On when at least `k` of the last `n` scores reach the onset threshold; off when fewer
        /// than `k` of the last `n` reach the offset threshold.
        case kOfN = "k_of_n"
    }

    public struct Smoothing: Codable, Equatable, Sendable {
        public var method: SmoothingMethod = .none
        public var windows: Int = 2
        public var k: Int = 2
        public var n: Int = 3
        public init() {}
    }

    public struct Thresholds: Codable, Equatable, Sendable {
        public var onsetThreshold: Float?
        public var offsetThreshold: Float?
        public init(onsetThreshold: Float? = nil, offsetThreshold: Float? = nil) {
            self.onsetThreshold = onsetThreshold
            self.offsetThreshold = offsetThreshold
        }

        enum CodingKeys: String, CodingKey {
            case onsetThreshold = "onset_threshold", offsetThreshold = "offset_threshold"
        }
    }

    public var smoothing = Smoothing()
    /// A class turns on when its smoothed score reaches this...
    public var onsetThreshold: Float = 0.5
    /// ...and off when it falls below this (hysteresis: offset ≤ onset).
    public var offsetThreshold: Float = 0.3
    /// Events shorter than this (seconds) are dropped; their onset is only written once reached.
    public var minDuration: Double = 0
    /// An event that resumes within this many seconds of its end continues instead of starting anew.
    public var mergeGap: Double = 0.5
    /// Per-class (or per-group) thresholds, by label, AudioSet id or group name.
    public var classes: [String: Thresholds] = [:]
    /// When not empty, only these labels, ids or groups produce events.
    public var include: [String] = []
    /// Labels, ids or groups that never produce events.
    public var exclude: [String] = []
    /// Named groups reported as one label (score: the highest member's); members leave the
    /// individual classes. Example: `dog: [Dog, Bark, Howl, "Bow-wow", Growling]`.
    public var groups: [String: [String]] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case smoothing, classes, include, exclude, groups
        case onsetThreshold = "onset_threshold", offsetThreshold = "offset_threshold"
        case minDuration = "min_duration", mergeGap = "merge_gap"
    }

    /// Longest `min_duration` and `merge_gap`, in seconds; most smoothing `windows` and `n`
    /// (each class keeps that many past scores).
    public static let maximumSeconds = 3600.0
    public static let maximumSmoothingWindows = 100

    /// Checks the values alone (ranges, hysteresis), as the configuration is loaded; each
    /// failure names its key under `events.`.
    public func validateValues() throws {
        func fail(_ key: String, _ reason: String) -> ConfigError { ConfigError(key: "events.\(key)", reason: reason) }
        func checkPair(_ key: String, _ onset: Float, _ offset: Float) throws {
            guard (0 ... 1).contains(onset) else { throw fail("\(key)onset_threshold", "must be within 0…1, got \(onset)") }
            guard (0 ... 1).contains(offset) else { throw fail("\(key)offset_threshold", "must be within 0…1, got \(offset)") }
            guard offset <= onset else { throw fail("\(key)offset_threshold", "\(offset) is above the onset threshold \(onset)") }
        }
        try checkPair("", onsetThreshold, offsetThreshold)
        // `contains` is false for NaN, so these also refuse non-finite values.
        guard (0 ... Self.maximumSeconds).contains(minDuration) else {
            throw fail("min_duration", "must be within 0…\(Int(Self.maximumSeconds)) seconds, got \(minDuration)")
        }
        guard (0 ... Self.maximumSeconds).contains(mergeGap) else {
            throw fail("merge_gap", "must be within 0…\(Int(Self.maximumSeconds)) seconds, got \(mergeGap)")
        }
        let most = Self.maximumSmoothingWindows
        guard (1 ... most).contains(smoothing.windows) else {
            throw fail("smoothing.windows", "must be within 1…\(most), got \(smoothing.windows)")
        }
        guard (1 ... most).contains(smoothing.n) else { throw fail("smoothing.n", "must be within 1…\(most), got \(smoothing.n)") }
        guard (1 ... smoothing.n).contains(smoothing.k) else { throw fail("smoothing.k", "needs 1 ≤ k ≤ n, got k = \(smoothing.k)") }
        for (name, thresholds) in classes {
            try checkPair("classes.\(name).", thresholds.onsetThreshold ?? onsetThreshold, thresholds.offsetThreshold ?? offsetThreshold)
        }
        for (group, members) in groups where members.isEmpty { throw fail("groups.\(group)", "is empty") }
    }

    /// Checks the values and that every name refers to a class or group of the model.
    public func validate(classes labels: [(name: String, id: String)]) throws {
        func fail(_ key: String, _ reason: String) -> ConfigError { ConfigError(key: "events.\(key)", reason: reason) }
        try validateValues()
        let known = Set(labels.flatMap { [$0.name, $0.id] })
        func checkName(_ name: String, _ key: String) throws {
            guard known.contains(name) || groups[name] != nil else {
                throw fail(key, "'\(name)' is neither a class of the model (name or id) nor a group")
            }
        }
        for (group, members) in groups {
            for member in members where !known.contains(member) {
                throw fail("groups.\(group)", "'\(member)' is not a class of the model (name or id)")
            }
        }
        for name in classes.keys { try checkName(name, "classes.\(name)") }
        for name in include { try checkName(name, "include") }
        for name in exclude { try checkName(name, "exclude") }
    }
}
