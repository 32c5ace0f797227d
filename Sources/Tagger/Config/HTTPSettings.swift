import Foundation

extension TaggerConfig {
    /// The `http:` section: Prometheus metrics, a health check, the live page and its feed.
    /// Off unless `listen` is set. config.yaml documents every key.
    public struct HTTP: Codable, Equatable, Sendable {
        /// `HOST:PORT` (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`); empty: no HTTP server.
        public var listen = ""
        /// Live pages (Server-Sent Events clients) connected at once; one more is answered 503.
        public var liveClients = 8
        /// Updates kept for a live page that reads slowly; beyond it the oldest are dropped and
        /// counted, so a stuck browser costs this much memory and never holds up tagging.
        public var liveBuffer = 32
        /// Seconds between live updates.
        public var liveSeconds = 0.25
        /// `/health` answers 503 when the feature stage has not checked in, or no audio came,
        /// for this many seconds.
        public var healthSeconds = 10.0
        /// Minutes of events kept for the live page's timeline and `/api/now`.
        public var eventMinutes = 10.0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case listen
            case liveClients = "live_clients", liveBuffer = "live_buffer", liveSeconds = "live_seconds"
            case healthSeconds = "health_seconds", eventMinutes = "event_minutes"
        }

        public var isEnabled: Bool { !listen.isEmpty }

        public enum Limits {
            public static let liveClients = 1 ... 1000
            public static let liveBuffer = 1 ... 10000
            public static let liveSeconds = 0.05 ... 60.0
            public static let healthSeconds = 1.0 ... 3600.0
            public static let eventMinutes = 0.1 ... 1440.0
            /// Events kept for the timeline, however many come within `event_minutes`.
            public static let events = 1000
        }

        /// Every key, whether or not the server is on (the numbers are cheap to check); errors name the key.
        public func validate() throws {
            if isEnabled { _ = try address() }
            let require = RangeCheck(section: "http")
            try require(liveClients, in: Limits.liveClients, "live_clients")
            try require(liveBuffer, in: Limits.liveBuffer, "live_buffer")
            try require(liveSeconds, in: Limits.liveSeconds, "live_seconds")
            try require(healthSeconds, in: Limits.healthSeconds, "health_seconds")
            try require(eventMinutes, in: Limits.eventMinutes, "event_minutes")
        }

        public func address() throws -> HTTPAddress { try HTTPAddress(parsing: listen) }
    }
}

/// Where the HTTP server listens, parsed from `http.listen`: a host (an IP address or a name)
/// and a port. There is no default port and no default host, so that `:8080` cannot silently
/// mean every interface.
public struct HTTPAddress: Equatable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) { self.host = host; self.port = port }

    public init(parsing text: String) throws {
        func fail(_ reason: String) -> ConfigError { ConfigError(key: "http.listen", reason: "'\(text)': \(reason)") }
        var hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {  // [::1]:8080
            guard let close = text.firstIndex(of: "]") else { throw fail("an IPv6 address without its ']'") }
            hostPart = text[text.index(after: text.startIndex) ..< close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { throw fail("expected ':PORT' after ']'") }
            portPart = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("not HOST:PORT like 127.0.0.1:8080") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { throw fail("an IPv6 address goes in brackets: [::1]:8080") }
        }
        guard !hostPart.isEmpty else { throw fail("no host (127.0.0.1 for this machine only, 0.0.0.0 for every interface)") }
        guard hostPart.utf8.count <= 253,
              !hostPart.contains(where: { $0.isWhitespace || $0.isNewline || "/@?#%\0".contains($0) }) else {
            throw fail("'\(hostPart)' is not a host name or address")
        }
        guard let port = Int(portPart), (1 ... 65535).contains(port) else { throw fail("port '\(portPart)' is not 1…65535") }
        host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
