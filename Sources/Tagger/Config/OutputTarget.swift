/// `output.target`, parsed once when the configuration is loaded (or `--output` is given).
public enum OutputTarget: Equatable, Sendable, CustomStringConvertible, Codable {
    case stdout
    /// A Unix domain socket every client of which gets every record.
    case unix(path: String)

    public init(parsing spec: String) throws {
        if spec == "stdout" {
            self = .stdout
        } else if spec.hasPrefix("unix:"), spec.count > "unix:".count {
            self = .unix(path: String(spec.dropFirst("unix:".count)))
        } else if spec == "unix:" {
            throw ConfigError(key: "output.target", reason: "unix: needs a path, e.g. unix:/run/mast-tagger/tagger.sock")
        } else {
            throw ConfigError(key: "output.target", reason: "'\(spec)' is neither stdout nor unix:PATH")
        }
    }

    /// The spelling the configuration uses.
    public var description: String {
        switch self {
        case .stdout: "stdout"
        case .unix(let path): "unix:\(path)"
        }
    }

    public init(from decoder: Decoder) throws {
        self = try decodeParsed(from: decoder, Self.init(parsing:))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
