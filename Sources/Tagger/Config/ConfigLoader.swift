import Foundation
import Yams

/// Reads a YAML configuration strictly: every key must be one the program knows, every value of
/// the right type, and each problem is reported with the file, the key path and the line.
///
/// How: the defaults are encoded to a YAML tree, the user's tree is laid over it (so any key may
/// be left out), and the result is decoded with the types' own `Codable`. A user key that is not
/// in the defaults' tree is unknown. Maps whose keys are the user's own (label names, groups) are
/// listed in `freeFormPaths` and taken whole.
public struct ConfigLoader<Config: Codable> {
    public let defaults: Config
    /// Dotted paths of maps with user-chosen keys, e.g. "events.groups".
    public let freeFormPaths: Set<String>

    /// Checks values the types alone can't (ranges, formats); a `ConfigError` it throws is
    /// reported at the line of the key it names.
    public let validate: (Config) throws -> Void

    public init(defaults: Config, freeFormPaths: Set<String>, validate: @escaping (Config) throws -> Void = { _ in }) {
        self.defaults = defaults
        self.freeFormPaths = freeFormPaths
        self.validate = validate
    }

    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let file: String
        public let line: Int?
        public let key: String
        public let reason: String

        public var description: String {
            let place = line.map { "\(file):\($0)" } ?? file
            return key.isEmpty ? "\(place): \(reason)" : "\(place): \(key): \(reason)"
        }
    }

    /// Largest configuration file read: a configuration is a few kilobytes, and YAML parsing
    /// costs about ten times a file's size in memory.
    public static var maximumFileBytes: Int { 1 << 20 }

    public func load(path: String) throws -> Config {
        try load(yaml: Self.read(path), file: path)
    }

    /// The file's text, refused beyond `maximumFileBytes` (counted as read, so a FIFO or a file
    /// that grows is bounded too) or when it is not UTF-8.
    static func read(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Problem(file: path, line: nil, key: "", reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        } catch {
            throw Problem(file: path, line: nil, key: "", reason: "cannot read: \(error.localizedDescription)")
        }
        guard data.count <= maximumFileBytes else {
            throw Problem(file: path, line: nil, key: "", reason: "larger than \(maximumFileBytes / 1024) KiB; not a configuration file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(file: path, line: nil, key: "", reason: "not UTF-8 text; not a configuration file")
        }
        return text
    }

    /// A `ConfigError` found after loading (while building the pipeline, against the model's
    /// classes), placed at its key's line in the file the configuration came from.
    public func locate(_ error: ConfigError, inFileAt path: String) -> Problem {
        let root = (try? Self.read(path)).flatMap { try? Yams.compose(yaml: $0) }
        let keys = error.key.split(separator: ".").map(String.init)
        return Problem(file: path, line: root.flatMap { Self.node(at: keys, in: $0)?.mark?.line }, key: error.key, reason: error.reason)
    }

    public func load(yaml: String, file: String) throws -> Config {
        let user: Node?
        do {
            user = try Yams.compose(yaml: yaml)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // A section appended to a file that has it already: name the key and its second line.
            let key = duplicates.first ?? ""
            throw Problem(file: file, line: Self.lastLine(startingWith: key, in: yaml) ?? context.mark.line, key: key,
                          reason: "appears twice in one mapping (the second would silently win); merge the two")
        } catch let error as YamlError {
            throw Problem(file: file, line: Self.line(of: error), key: "", reason: "not valid YAML: \(Self.problem(of: error))")
        }
        let base = try Yams.compose(yaml: YAMLEncoder().encode(defaults))!
        guard let user else { return defaults }  // an empty file: the defaults, which are valid
        guard user.mapping != nil || user.null != nil else {
            throw Problem(file: file, line: user.mark?.line, key: "", reason: "must be a mapping of keys to values")
        }
        let merged = try overlay(user, on: base, path: [], file: file)
        let config: Config
        do {
            config = try YAMLDecoder().decode(Config.self, from: merged)
        } catch let error as DecodingError {
            let (codingPath, reason) = Self.describe(error)
            let keys = codingPath.map(\.stringValue)
            throw Problem(file: file, line: Self.node(at: keys, in: user)?.mark?.line, key: keys.joined(separator: "."), reason: reason)
        }
        do {
            try validate(config)
        } catch let error as ConfigError {
            throw Problem(file: file, line: Self.node(at: error.key.split(separator: ".").map(String.init), in: user)?.mark?.line,
                          key: error.key, reason: error.reason)
        }
        return config
    }

    /// `user` laid over `base`: mappings merge key by key, anything else replaces.
    private func overlay(_ user: Node, on base: Node, path: [String], file: String) throws -> Node {
        guard case .mapping(let userMap) = user else {
            if user.null != nil, path.isEmpty { return base }  // an empty file
            if base.mapping != nil, !freeFormPaths.contains(path.joined(separator: ".")) {
                throw Problem(file: file, line: user.mark?.line, key: path.joined(separator: "."), reason: "must be a mapping")
            }
            return user
        }
        guard case .mapping(var result) = base, !freeFormPaths.contains(path.joined(separator: ".")) else { return user }
        for (keyNode, value) in userMap {
            guard let key = keyNode.string else {
                throw Problem(file: file, line: keyNode.mark?.line, key: path.joined(separator: "."), reason: "keys must be strings")
            }
            let here = path + [key]
            guard let existing = result[key] else {
                let known = result.keys.compactMap(\.string).sorted().joined(separator: ", ")
                throw Problem(file: file, line: keyNode.mark?.line, key: here.joined(separator: "."),
                              reason: "unknown key (known here: \(known))")
            }
            result[key] = try overlay(value, on: existing, path: here, file: file)
        }
        return .mapping(result)
    }

    private static func node(at keys: [String], in root: Node) -> Node? {
        var node = root, found: Node? = root
        for key in keys {
            if let next = node.mapping?[key] { node = next; found = next }
            else if let index = Int(key), let items = node.sequence, index < items.count { node = items[index]; found = node }
            else { break }
        }
        return found
    }

    private static func describe(_ error: DecodingError) -> ([CodingKey], String) {
        switch error {
        case .typeMismatch(let type, let context):
            return (context.codingPath, "expected \(readable(type))")
        case .valueNotFound(let type, let context):
            return (context.codingPath, "expected \(readable(type)), found nothing")
        case .keyNotFound(let key, let context):
            return (context.codingPath + [key], "missing")
        case .dataCorrupted(let context):
            return (context.codingPath, context.debugDescription)
        @unknown default:
            return ([], "\(error)")
        }
    }

    private static func readable(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "\(type)"
        }
    }

    /// What is wrong, without the line of the file Yams quotes: a file given by mistake
    /// (`--config /etc/shadow`) must not have its contents echoed into a log.
    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(problem) (column \(mark.column))"
        default:
            return "the file could not be parsed"
        }
    }

    /// The last line (1-based) whose text, indentation aside, starts with `key:`.
    private static func lastLine(startingWith key: String, in yaml: String) -> Int? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.lastIndex { $0.drop { $0 == " " }.hasPrefix(key + ":") }.map { $0 + 1 }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}
