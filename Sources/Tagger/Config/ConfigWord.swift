/// A configuration value that is one of a few words (`precision: int8`, `clips.format: flac`):
/// decoded when the file is loaded, and refused with the key and the words it takes
/// ("'mp3' is not wav or flac"), at the key's line.
public protocol ConfigWord: RawRepresentable<String>, CaseIterable, Codable {
    /// The key, as the error names it (`clips.format`).
    static var key: String { get }
}

extension ConfigWord {
    public init(parsing text: String) throws {
        guard let value = Self(rawValue: text) else {
            let words = Self.allCases.map(\.rawValue)
            let listed = words.count > 1 ? words.dropLast().joined(separator: ", ") + " or " + words.last! : words.joined()
            throw ConfigError(key: Self.key, reason: "'\(text)' is not \(listed)")
        }
        self = value
    }

    public init(from decoder: Decoder) throws {
        self = try decodeParsed(from: decoder, Self.init(parsing:))
    }
}
