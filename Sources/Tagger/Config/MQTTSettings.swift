import Foundation

extension TaggerConfig {
    /// The `mqtt:` section: records, per-label states, the input's level and Home Assistant
    /// discovery published to a broker, beside stdout or the socket. config.yaml documents every key.
    public struct MQTT: Codable, Equatable, Sendable {
        /// `mqtt://HOST[:PORT]` (1883) or `mqtts://HOST[:PORT]` (8883, TLS); empty: MQTT is off.
        public var url = ""
        /// MQTT protocol version: "3.1.1" or "5".
        public var protocolVersion = "3.1.1"
        /// First level of every topic.
        public var topicPrefix = "mast-tagger"
        /// This tagger's name in topics and records; empty: the host name, with "-NAME" when the
        /// configuration's `name` is set (one node per microphone).
        public var node = ""
        /// QoS of `records` messages (0, 1 or 2); states, status and discovery use 1.
        public var qos = 1
        /// Publish the per-label ON/OFF state messages retained, so a new subscriber sees what is sounding now.
        public var retainState = true
        /// Publish Home Assistant MQTT discovery messages.
        public var discovery = true
        public var discoveryPrefix = "homeassistant"
        /// Messages kept while the broker is away or slow; beyond it the oldest are dropped and counted.
        public var queue = 1000
        /// Seconds between keep-alive pings; a broker that hears nothing for 1.5 × this publishes the last will.
        public var keepalive = 60
        /// Seconds between `level` messages.
        public var levelSeconds = 5.0
        /// Seconds before the first reconnection attempt, doubling up to `retry_max_seconds`.
        public var retryInitialSeconds = 1.0
        public var retryMaxSeconds = 60.0
        public var username = ""
        /// A file whose first line is the password (kept out of config.yaml).
        public var passwordFile = ""
        /// TLS (mqtts): CA certificates that sign the broker's; empty: the system's.
        public var caFile = ""
        /// TLS client certificate and its key (both or neither).
        public var certFile = ""
        public var keyFile = ""

        public init() {}

        enum CodingKeys: String, CodingKey {
            case url, node, qos, discovery, queue, keepalive, username
            case protocolVersion = "protocol", topicPrefix = "topic_prefix", retainState = "retain_state"
            case discoveryPrefix = "discovery_prefix", levelSeconds = "level_seconds"
            case retryInitialSeconds = "retry_initial_seconds", retryMaxSeconds = "retry_max_seconds"
            case passwordFile = "password_file", caFile = "ca_file", certFile = "cert_file", keyFile = "key_file"
        }

        public var isEnabled: Bool { !url.isEmpty }

        public enum Limits {
            public static let qos = 0 ... 2
            public static let queue = 1 ... 1_000_000
            public static let keepalive = 5 ... 65535
            public static let levelSeconds = 0.1 ... 3600.0
            public static let retrySeconds = 0.01 ... 3600.0
            /// Bytes of a password file read (MQTT's own limit is 65535).
            public static let passwordBytes = 65535
        }

        /// Checks every key (only when MQTT is on, so a half-written section can wait); errors
        /// name the key. Reads `password_file` and checks that the TLS files are readable.
        public func validate() throws {
            guard isEnabled else { return }
            _ = try endpoint()
            guard ["3.1.1", "5"].contains(protocolVersion) else {
                throw ConfigError(key: "mqtt.protocol", reason: "'\(protocolVersion)' is not \"3.1.1\" or \"5\"")
            }
            try Self.checkTopicLevels(topicPrefix, key: "mqtt.topic_prefix")
            try Self.checkTopicLevels(discoveryPrefix, key: "mqtt.discovery_prefix")
            if !node.isEmpty { try Self.checkTopicLevels(node, key: "mqtt.node", single: true) }
            let require = RangeCheck(section: "mqtt")
            try require(qos, in: Limits.qos, "qos")
            try require(queue, in: Limits.queue, "queue")
            try require(keepalive, in: Limits.keepalive, "keepalive")
            try require(levelSeconds, in: Limits.levelSeconds, "level_seconds")
            try require(retryInitialSeconds, in: Limits.retrySeconds, "retry_initial_seconds")
            try require(retryMaxSeconds, in: retryInitialSeconds ... Limits.retrySeconds.upperBound, "retry_max_seconds")
            if !passwordFile.isEmpty {
                guard !username.isEmpty else {
                    throw ConfigError(key: "mqtt.password_file", reason: "a password needs mqtt.username")
                }
                _ = try password()
            }
            for (key, path) in [("ca_file", caFile), ("cert_file", certFile), ("key_file", keyFile)] where !path.isEmpty {
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw ConfigError(key: "mqtt.\(key)", reason: "\(path): \(Self.whyUnreadable(path))")
                }
            }
            guard certFile.isEmpty == keyFile.isEmpty else {
                throw ConfigError(key: certFile.isEmpty ? "mqtt.cert_file" : "mqtt.key_file",
                                  reason: "a client certificate needs both cert_file and key_file")
            }
            if try !endpoint().tls, !(caFile + certFile + keyFile).isEmpty {
                throw ConfigError(key: "mqtt.url", reason: "TLS files are set but \(url) is not mqtts://")
            }
        }

        /// The password: the first line of `password_file` (nil without one).
        public func password() throws -> String? {
            guard !passwordFile.isEmpty else { return nil }
            guard let handle = FileHandle(forReadingAtPath: passwordFile) else {
                throw ConfigError(key: "mqtt.password_file", reason: "\(passwordFile): \(Self.whyUnreadable(passwordFile))")
            }
            defer { try? handle.close() }
            let data = (try? handle.read(upToCount: Limits.passwordBytes + 1)) ?? Data()
            guard data.count <= Limits.passwordBytes, let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(key: "mqtt.password_file", reason: "\(passwordFile): not a password (UTF-8 text under 64 KiB)")
            }
            // Character-wise, "\r\n" is one newline.
            return String(text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline).first ?? "")
        }

        /// Where `url` points.
        public func endpoint() throws -> MQTTEndpoint {
            try MQTTEndpoint(parsing: url)
        }

        /// The node name in topics and records: `node`, or the host name (with "-NAME" for a
        /// named tagger), made a valid topic level.
        public func resolvedNode(name: String) -> String {
            if !node.isEmpty { return node }
            var host = [UInt8](repeating: 0, count: 256)
            let hostName = gethostname(&host, host.count - 1) == 0
                ? String(decoding: host.prefix { $0 != 0 }, as: UTF8.self) : "localhost"
            let base = String(hostName.split(separator: ".").first ?? "localhost")
            let joined = name.isEmpty ? base : "\(base)-\(name)"
            return String(joined.map { "+#/".contains($0) ? "_" : $0 })
        }

        static func checkTopicLevels(_ topic: String, key: String, single: Bool = false) throws {
            guard !topic.isEmpty else { throw ConfigError(key: key, reason: "must not be empty") }
            if let bad = topic.first(where: { "+#\0".contains($0) }) {
                throw ConfigError(key: key, reason: "'\(topic)' contains '\(bad == "\0" ? "\\0" : String(bad))', a wildcard or NUL that topics cannot hold")
            }
            if single, topic.contains("/") {
                throw ConfigError(key: key, reason: "'\(topic)' must be one topic level, without '/'")
            }
            guard !topic.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                throw ConfigError(key: key, reason: "'\(topic)' has an empty topic level (a leading, trailing or double '/')")
            }
            guard topic.utf8.count <= 1024 else { throw ConfigError(key: key, reason: "longer than 1024 bytes") }
        }

        static func whyUnreadable(_ path: String) -> String {
            FileManager.default.fileExists(atPath: path) ? "not readable by this user" : "no such file"
        }
    }
}

/// A broker's address, parsed from `mqtt.url`.
public struct MQTTEndpoint: Equatable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let tls: Bool

    public init(parsing url: String) throws {
        func fail(_ reason: String) -> ConfigError { ConfigError(key: "mqtt.url", reason: "'\(url)': \(reason)") }
        guard let schemeEnd = url.range(of: "://") else { throw fail("not a URL like mqtt://HOST:PORT") }
        switch url[..<schemeEnd.lowerBound] {
        case "mqtt": tls = false
        case "mqtts": tls = true
        case let other: throw fail("unknown scheme '\(other)' (mqtt or mqtts)")
        }
        var rest = Substring(url[schemeEnd.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("@"), !rest.contains("?") else {
            throw fail("only a host and port (user and password go in mqtt.username and mqtt.password_file)")
        }
        var hostPart = rest, portPart: Substring?
        if rest.hasPrefix("[") {  // [::1]:1883
            guard let close = rest.firstIndex(of: "]") else { throw fail("an IPv6 address without its ']'") }
            hostPart = rest[rest.index(after: rest.startIndex) ..< close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("expected ':PORT' after ']'") }
                portPart = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty, hostPart.utf8.count <= 253, !hostPart.contains(where: { $0.isWhitespace }) else {
            throw fail("no host")
        }
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1 ... 65535).contains(port) else { throw fail("port '\(portPart)' is not 1…65535") }
            self.port = port
        } else {
            port = tls ? 8883 : 1883
        }
    }

    public var description: String { "\(tls ? "mqtts" : "mqtt")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}
