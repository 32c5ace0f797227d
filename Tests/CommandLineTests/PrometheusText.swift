import Foundation

/// A strict parser of the Prometheus text exposition format (version 0.0.4), for the tests of
/// `/metrics`: every line is a `# HELP`, a `# TYPE` or a sample; names and label names follow
/// the format's grammar, label values its escapes; each sample belongs to a family whose TYPE
/// came first; counters are named `…_total`; a histogram's buckets are cumulative, end at
/// `+Inf` and agree with `_count`. Anything else throws.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Malformed: Error, CustomStringConvertible { var description: String }

    var types: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        var helped = Set<String>()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ why: String) -> Malformed { Malformed(description: "line \(number + 1): \(why): \(line)") }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#" else { throw fail("a comment that is neither HELP nor TYPE") }
                let name = String(parts[2])
                guard Self.isMetricName(name) else { throw fail("bad metric name") }
                switch parts[1] {
                case "HELP":
                    guard helped.insert(name).inserted else { throw fail("a second HELP") }
                case "TYPE":
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("unknown type")
                    }
                    guard types[name] == nil else { throw fail("a second TYPE") }
                    guard !samples.contains(where: { Self.family(of: $0.name, in: [name: ""]) != nil }) else {
                        throw fail("TYPE after its samples")
                    }
                    types[name] = String(parts[3])
                default: throw fail("a comment that is neither HELP nor TYPE")
                }
                continue
            }
            samples.append(try Self.sample(Substring(line), fail: fail))
            guard let family = Self.family(of: samples.last!.name, in: types) else { throw fail("a sample without a TYPE") }
            if types[family] == "counter", !family.hasSuffix("_total") { throw fail("a counter not named …_total") }
        }
        try checkHistograms()
    }

    /// The family a sample name belongs to (a histogram's `_bucket`, `_sum` and `_count`).
    static func family(of name: String, in types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic && first.isASCII || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0" ... "9").contains($0) || $0 == "_" || $0 == ":") }
    }

    static func sample(_ line: Substring, fail: (String) -> Malformed) throws -> Sample {
        var rest = line
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard isMetricName(name) else { throw fail("bad metric name") }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw fail("a label without '='") }
                let label = String(rest[..<equals])
                guard isMetricName(label), !label.contains(":") else { throw fail("bad label name '\(label)'") }
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw fail("an unquoted label value") }
                rest = rest.dropFirst()
                var value = ""
                while true {
                    guard let c = rest.first else { throw fail("an unterminated label value") }
                    rest = rest.dropFirst()
                    if c == "\"" { break }
                    if c == "\\" {
                        guard let escaped = rest.first else { throw fail("a dangling escape") }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw fail("an unknown escape \\\(escaped)")
                        }
                    } else {
                        value.append(c)
                    }
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw fail("a repeated label") }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("expected ',' or '}'") }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw fail("no value") }
        let fields = rest.dropFirst().split(separator: " ")
        guard (1 ... 2).contains(fields.count) else { throw fail("value and at most a timestamp") }
        let text = String(fields[0])
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let number = Double(text), number.isFinite else { throw fail("a value that is not a number") }
            value = number
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private func checkHistograms() throws {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(le: Double, count: Double)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                var labels = sample.labels
                guard let le = labels.removeValue(forKey: "le"), let bound = le == "+Inf" ? .infinity : Double(le) else {
                    throw Malformed(description: "\(family): a bucket without le")
                }
                series[labels, default: []].append((bound, sample.value))
            }
            guard !series.isEmpty else { throw Malformed(description: "\(family): a histogram without buckets") }
            for (labels, buckets) in series {
                guard buckets.map(\.le) == buckets.map(\.le).sorted(), buckets.last?.le == .infinity else {
                    throw Malformed(description: "\(family): buckets out of order or without +Inf")
                }
                guard buckets.map(\.count) == buckets.map(\.count).sorted() else {
                    throw Malformed(description: "\(family): buckets not cumulative")
                }
                guard let count = samples.first(where: { $0.name == family + "_count" && $0.labels == labels }),
                      count.value == buckets.last!.count,
                      samples.contains(where: { $0.name == family + "_sum" && $0.labels == labels }) else {
                    throw Malformed(description: "\(family): _count or _sum missing or not the +Inf bucket")
                }
            }
        }
    }

    /// The value of the one sample named `name` with `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
