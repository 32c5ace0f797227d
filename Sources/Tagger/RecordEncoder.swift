import Foundation

/// How records are written: one JSON object per line, or a line of text for people and grep.
public enum OutputFormat: String, Codable, Sendable, CaseIterable {
    case jsonl, text
}

/// Which tagger a record comes from, so records of many boxes and microphones on one broker or
/// log can be told apart: JSON records of `run` carry both as `node` and `source`.
public struct RecordOrigin: Equatable, Sendable {
    public var node: String
    /// The input's name (`name` in the configuration, else the input, e.g. `alsa:default`).
    public var source: String

    public init(node: String, source: String) { self.node = node; self.source = source }
}

/// Turns records into lines (without the trailing newline).
public struct RecordEncoder: Sendable {
    public let format: OutputFormat
    /// Added to JSON records (not to text lines, which are for people reading one tagger).
    public let origin: RecordOrigin?

    public init(format: OutputFormat, origin: RecordOrigin? = nil) { self.format = format; self.origin = origin }

    public func line(_ record: Record) -> String {
        switch format {
        case .jsonl: return json(record)
        case .text: return text(record)
        }
    }

    private func json(_ record: Record) -> String {
        let encoder = JSONEncoder()
        // Sorted keys make every line of a kind byte-for-byte predictable; unescaped slashes keep
        // AudioSet ids ("/m/09x0r") greppable.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.timestamp(date))
        }
        let fields: any Encodable
        switch record {
        case .onset(let onset): fields = onset
        case .event(let event): fields = event
        case .tags(let tags): fields = tags
        case .summary(let summary): fields = summary
        }
        let data = try! encoder.encode(WithOrigin(fields: fields, origin: origin))
        return String(decoding: data, as: UTF8.self)
    }

    /// A record's own fields and, when given, `node` and `source` in the same JSON object.
    private struct WithOrigin: Encodable {
        let fields: any Encodable
        let origin: RecordOrigin?

        enum Keys: String, CodingKey { case node, source }

        func encode(to encoder: Encoder) throws {
            try fields.encode(to: encoder)
            guard let origin else { return }
            var container = encoder.container(keyedBy: Keys.self)  // JSONEncoder merges it with the fields'
            try container.encode(origin.node, forKey: .node)
            try container.encode(origin.source, forKey: .source)
        }
    }

    /// `2026-11-24T19:25:00.123Z onset Speech (/m/09x0r) start=12.340 score=0.87`
    private func text(_ record: Record) -> String {
        func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
        func score(_ value: Float) -> String { String(format: "%.2f", value) }
        func labels(_ labels: [Record.Label]) -> String {
            labels.map { "\(Self.printable($0.label)) \(score($0.score))" }.joined(separator: ", ")
        }
        switch record {
        case .onset(let o):
            return "\(Self.timestamp(o.time)) onset \(Self.printable(o.label)) (\(Self.printable(o.id))) start=\(seconds(o.start)) "
                + "score=\(score(o.score))"
        case .event(let e):
            return "\(Self.timestamp(e.time)) event \(Self.printable(e.label)) (\(Self.printable(e.id))) start=\(seconds(e.start)) "
                + "end=\(seconds(e.end)) duration=\(seconds(e.end - e.start)) peak=\(score(e.peak))"
                + (e.clip.map { " clip=\(Self.printable($0))" } ?? "")
        case .tags(let t):
            var level = ""
            if let rms = t.rmsDBFS, let peak = t.peakDBFS { level = String(format: " rms=%.1f peak=%.1f dBFS", rms, peak) }
            return "tags \(seconds(t.start))-\(seconds(t.end)) \(labels(t.labels))\(level)"
        case .summary(let s):
            return "summary \(Self.printable(s.file)): \(labels(s.labels))"
        }
    }

    /// A name from a model file, a configuration or a path, with control characters escaped
    /// (`\u{0A}`): a newline in a class or group name forged whole lines in the text format.
    static func printable(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return name }
        return name.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}" : String(scalar)
        }.joined()
    }

    /// UTC ISO 8601 with milliseconds.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
