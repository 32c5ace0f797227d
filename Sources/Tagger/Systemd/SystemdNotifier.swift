import Foundation

/// sd_notify(3) without libsystemd: tells systemd (a `Type=notify` or `Type=notify-reload` unit)
/// when the service is ready, what it is doing, that it is alive and that it is stopping.
///
/// systemd names its notification socket in `NOTIFY_SOCKET`: a file system path ("/run/systemd/notify")
/// or, with a leading "@", a name in the abstract socket namespace. Each message is one datagram of
/// newline-separated `KEY=value` assignments. Without `NOTIFY_SOCKET` (not run by systemd) every
/// call does nothing.
public struct SystemdNotifier: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let socket: String
        public let reason: String
        public var description: String { "sd_notify to NOTIFY_SOCKET=\(socket): \(reason)" }
    }

    /// `NOTIFY_SOCKET`, or nil when systemd is not listening.
    public let socket: String?
    /// How often to call `watchdog()`: half of `WATCHDOG_USEC` (as sd_watchdog_enabled(3) advises), or
    /// nil when the unit has no `WatchdogSec=` or the watchdog is meant for another process (`WATCHDOG_PID`).
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, processID: pid_t = getpid()) {
        socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let watchdogForUs = environment["WATCHDOG_PID"].map { pid_t($0) == processID } ?? true
        if watchdogForUs, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    public var isEnabled: Bool { socket != nil }

    /// Startup is complete ("READY=1"), optionally with a status line.
    public func ready(status: String? = nil) throws {
        try notify(["READY=1"] + (status.map { [statusAssignment($0)] } ?? []))
    }

    /// A one-line description of what the service is doing, shown by `systemctl status`.
    public func status(_ text: String) throws {
        try notify([statusAssignment(text)])
    }

    /// Keep-alive ping for `WatchdogSec=`; send it every `watchdogInterval`.
    public func watchdog() throws {
        try notify(["WATCHDOG=1"])
    }

    /// The service has begun to shut down.
    public func stopping() throws {
        try notify(["STOPPING=1"])
    }

    /// The service is reloading its configuration; send `ready()` when done. `Type=notify-reload`
    /// requires the monotonic clock reading with it, to tell this reload from an earlier one.
    public func reloading() throws {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        try notify(["RELOADING=1", "MONOTONIC_USEC=\(microseconds)"])
    }

    /// Sends the assignments as one datagram, one per line. Does nothing when `NOTIFY_SOCKET` is unset.
    public func notify(_ assignments: [String]) throws {
        guard let socket else { return }
        let address = try Self.address(of: socket)
        let descriptor = Foundation.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(socket: socket, reason: "socket: \(Self.lastError())") }
        defer { close(descriptor) }
        let message = Array(assignments.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
                message.withUnsafeBytes { bytes in
                    // MSG_DONTWAIT: a service manager that stops reading (its queue full) must not
                    // block the daemon; that notification is lost and the call throws (EAGAIN).
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sockaddr, address.length)
                }
            }
        }
        guard sent == message.count else {
            throw Failure(socket: socket, reason: sent < 0 ? "sendto: \(Self.lastError())" : "sendto: short write")
        }
    }

    /// STATUS= ends at the end of its line.
    private func statusAssignment(_ text: String) -> String {
        "STATUS=" + text.replacingOccurrences(of: "\n", with: " ")
    }

    /// The socket address for a `NOTIFY_SOCKET` value: a path, or "@name" for the abstract namespace
    /// (sun_path starting with a NUL byte, the length counting exactly the name's bytes).
    private static func address(of socket: String) throws -> (storage: sockaddr_un, length: socklen_t) {
        let bytes: [UInt8]
        switch socket.first {
        case "/": bytes = Array(socket.utf8) + [0]
        case "@": bytes = [0] + Array(socket.utf8.dropFirst())
        default: throw Failure(socket: socket, reason: "not a socket path or an abstract socket name (\"@...\")")
        }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count <= capacity else {
            throw Failure(socket: socket, reason: "longer than the \(capacity) bytes a socket address holds")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count
        return (storage, socklen_t(length))
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
