/// `input.source`, parsed once when the configuration is loaded (or `--input` is given), so a
/// bad value is reported with the file, key and line rather than when the pipeline is built.
public enum InputSource: Equatable, Sendable, CustomStringConvertible, Codable {
    /// A capture device, e.g. `alsa:default`, `alsa:hw:CARD=Device,DEV=0`.
    case alsa(device: String)
    /// A WAV file (or a FIFO carrying one).
    case wav(path: String)
    /// Raw interleaved PCM on standard input, described by the `input.stdin_*` keys.
    case stdin

    public init(parsing spec: String) throws {
        if spec == "stdin" {
            self = .stdin
        } else if spec.hasPrefix("alsa:") {
            let device = String(spec.dropFirst("alsa:".count))
            guard !device.isEmpty else { throw ConfigError(key: "input.source", reason: "alsa: needs a device name, e.g. alsa:default") }
            self = .alsa(device: device)
        } else if spec.hasPrefix("wav:") {
            let path = String(spec.dropFirst("wav:".count))
            guard !path.isEmpty else { throw ConfigError(key: "input.source", reason: "wav: needs a path, e.g. wav:/tmp/a.wav") }
            self = .wav(path: path)
        } else {
            throw ConfigError(key: "input.source", reason: "'\(spec)' is not alsa:DEVICE, wav:PATH or stdin")
        }
    }

    /// The spelling the configuration uses.
    public var description: String {
        switch self {
        case .alsa(let device): "alsa:\(device)"
        case .wav(let path): "wav:\(path)"
        case .stdin: "stdin"
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

/// Decodes a string with `parse`, turning its `ConfigError` into the decoding error the
/// configuration loader reports at the key's line.
func decodeParsed<T>(from decoder: Decoder, _ parse: (String) throws -> T) throws -> T {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
        return try parse(text)
    } catch let error as ConfigError {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: error.reason)
    }
}
