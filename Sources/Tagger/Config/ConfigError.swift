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
