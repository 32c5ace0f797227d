/// The topics one tagger publishes under `<topic_prefix>/<node>` (README, "MQTT", documents them
/// as a stable interface, like the record fields).
public struct MQTTTopics: Equatable, Sendable {
    public let base: String

    public init(prefix: String, node: String) { base = "\(prefix)/\(node)" }

    /// `online` / `offline`, retained; `offline` is also the last will.
    public var status: String { "\(base)/status" }
    /// Every record, the same JSON line as standard output.
    public var records: String { "\(base)/records" }
    /// The input's level every `level_seconds`: `{"rms_dbfs": …, "peak_dbfs": …, "seconds": …}`.
    public var level: String { "\(base)/level" }
    /// One message per onset, `{"event_type": LABEL, "score": …}`: Home Assistant's event entity.
    public var event: String { "\(base)/event" }

    /// `ON` / `OFF` for a label (class or group) that has had an onset.
    public func state(_ label: String) -> String { "\(base)/state/\(Self.slug(label))" }

    /// A label as one topic level and a Home Assistant object id: lower case, with every run of
    /// characters other than a–z and 0–9 made one "_" ("Beep, bleep" → "beep_bleep").
    public static func slug(_ label: String) -> String {
        var slug = "", pendingSeparator = false
        for scalar in label.lowercased().unicodeScalars {
            if ("a" ... "z").contains(scalar) || ("0" ... "9").contains(scalar) {
                if pendingSeparator, !slug.isEmpty { slug.append("_") }
                slug.unicodeScalars.append(scalar)
                pendingSeparator = false
            } else {
                pendingSeparator = true
            }
        }
        return slug.isEmpty ? "_" : slug
    }
}
