/// A configuration value that makes no sense, with its dotted key (`windows.hop`). The one error
/// type the configuration's checks throw; `ConfigLoader` places it at the key's file and line.
public struct ConfigError: Error, CustomStringConvertible {
    public let key: String
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }
}

/// The range check of one section's numbers: `try require(qos, in: Limits.qos, "qos")` refuses a
/// value outside the range as `mqtt.qos: must be within 0…2, got 3`. NaN is outside every range
/// (`contains` is false for it), and so are the infinities of the ranges used here.
struct RangeCheck {
    /// The section's key with its dot (`mqtt.`), or "" where the keys are written out in full.
    let prefix: String

    init(section: String? = nil) {
        prefix = section.map { $0 + "." } ?? ""
    }

    func callAsFunction<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ key: String, _ unit: String = "") throws {
        guard range.contains(value) else {
            throw ConfigError(key: prefix + key, reason: "must be within \(range.lowerBound)…\(range.upperBound)\(unit), got \(value)")
        }
    }
}
