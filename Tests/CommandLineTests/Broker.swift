import Foundation
import XCTest

/// A real MQTT broker (Debian's `mosquitto`) on a free loopback port, for one test; it can be
/// stopped and started again on the same port. `extraConfig` adds listener options (TLS,
/// passwords); `persistent` keeps sessions and queued messages across a restart.
final class Broker {
    let port: Int
    let directory: URL
    private let configPath: String
    private var process: Process?

    /// With TLS: the CA that signed the broker's certificate (clients then use "localhost").
    let tlsCA: String?

    init(directory: URL, extraConfig: String = "", persistent: Bool = false, tls: TestCertificates? = nil) throws {
        self.directory = directory
        port = try Self.freePort()
        tlsCA = tls?.ca
        configPath = directory.appendingPathComponent("mosquitto.conf").path
        var config = "listener \(port) 127.0.0.1\n\(extraConfig)\n"
        if let tls { config += "cafile \(tls.ca)\ncertfile \(tls.serverCertificate)\nkeyfile \(tls.serverKey)\n" }
        // As root, mosquitto would switch to the user "mosquitto", who can't read this test's files.
        if getuid() == 0 { config += "user root\n" }
        if !extraConfig.contains("allow_anonymous") { config += "allow_anonymous true\n" }
        if persistent { config += "persistence true\npersistence_location \(directory.path)/\nautosave_interval 1\n" }
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try start()
    }

    deinit { stop() }

    /// Starts the broker and waits until it accepts connections.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
        process.arguments = ["-c", configPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        self.process = process
        let deadline = Date() + 10
        while !Self.accepts(port: port) {
            guard Date() < deadline, process.isRunning else { throw BrokerError(reason: "mosquitto did not start on port \(port)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// SIGTERM, and waits for the broker to exit.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    /// A `mosquitto_sub` on `topic`, connected and subscribed when this returns.
    func subscribe(_ topic: String = "#", arguments: [String] = []) throws -> Subscriber {
        let subscriber = try Subscriber(port: port, topic: topic, arguments: ["-t", "probe/#"] + arguments + clientTLSArguments)
        let probe = "probe/\(UUID().uuidString)"
        let deadline = Date() + 10
        repeat {  // until the subscription is in place, which a probe message shows
            try publish(topic: probe, payload: "probe")
            if subscriber.wait(for: 0.3, until: { !subscriber.messages(on: probe).isEmpty }) { return subscriber }
        } while Date() < deadline
        XCTFail("mosquitto_sub did not subscribe: \(subscriber.output)")
        return subscriber
    }

    /// The retained messages under `topic` now (one fresh subscriber's first second).
    func retained(_ topic: String = "#") throws -> [Subscriber.Message] {
        let sub = try Subscriber(port: port, topic: topic, arguments: ["-W", "1"] + clientTLSArguments)
        sub.process.waitUntilExit()
        Thread.sleep(forTimeInterval: 0.05)
        return sub.all.filter(\.retained)
    }

    func publish(topic: String, payload: String, retain: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
        process.arguments = ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-m", payload] + (retain ? ["-r"] : [])
            + clientTLSArguments
        try process.run()
        process.waitUntilExit()
    }

    /// mosquitto_sub and mosquitto_pub take the last -h: "localhost", the name in the certificate.
    private var clientTLSArguments: [String] { tlsCA.map { ["--cafile", $0, "-h", "localhost"] } ?? [] }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw BrokerError(reason: "no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A certificate authority made for one test, and a certificate it signed for "localhost"
/// (`openssl`, EC P-256 keys: fast to make).
struct TestCertificates {
    let ca: String
    let serverCertificate: String
    let serverKey: String

    init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        ca = path("ca.pem")
        serverCertificate = path("server.pem")
        serverKey = path("server.key")
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: path("san.ext"), atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for arguments in [
            ["req", "-x509"] + key + ["-keyout", path("ca.key"), "-out", ca, "-days", "2", "-subj", "/CN=mast-tagger test CA"],
            ["req"] + key + ["-keyout", serverKey, "-out", path("server.csr"), "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", path("server.csr"), "-CA", ca, "-CAkey", path("ca.key"), "-CAcreateserial",
             "-out", serverCertificate, "-days", "2", "-extfile", path("san.ext")],
        ] {
            let openssl = try ToolRun("/usr/bin/openssl", arguments)
            guard openssl.status == 0 else {
                throw BrokerError(reason: "openssl \(arguments.joined(separator: " ")) failed: \(openssl.failure)")
            }
        }
    }
}

struct BrokerError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// `mosquitto_sub` printing "RETAIN TOPIC PAYLOAD" per message.
final class Subscriber: @unchecked Sendable {
    struct Message: Equatable {
        let retained: Bool
        let topic: String
        let payload: String
    }

    let process = Process()
    private let pipe = Pipe()
    private let lock = NSLock()
    private var data = Data()

    init(port: Int, topic: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_sub")
        process.arguments = ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-F", "%r %t %p"] + arguments
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            self?.lock.withLock { self?.data += chunk }
        }
        try process.run()
    }

    deinit {
        pipe.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { process.terminate() }
    }

    var output: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    var all: [Message] {
        output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { return nil }
            return Message(retained: parts[0] == "1", topic: String(parts[1]), payload: parts.count > 2 ? String(parts[2]) : "")
        }
    }

    func messages(on topic: String) -> [Message] { all.filter { $0.topic == topic } }

    func payloads(on topic: String) -> [String] { messages(on: topic).map(\.payload) }

    @discardableResult
    func wait(for timeout: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date() + timeout
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}
