import Foundation
import XCTest

/// `mast-tagger run` as a process: inputs, end of input, signals, reloads, bad configurations.
final class RunCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func config(_ text: String, name: String = "config.yaml") throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func toneFile(seconds: Double = 4, toneStart: Double = 1, toneEnd: Double = 3) throws -> String {
        let url = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(url, seconds: seconds, toneStart: toneStart, toneEnd: toneEnd)
        return url.path
    }

    func testWAVInputRunsToItsEndAndClosesEvents() throws {
        let wav = try toneFile()
        let path = try config("input: {realtime: false}\nevents: {exclude: [Silence]}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertEqual(daemon.exitStatus(within: 20), 0, daemon.stderr)
        let records = daemon.records()
        XCTAssertEqual(records.compactMap { $0["type"] as? String }, ["onset", "event"], daemon.stdout)
        let event = try XCTUnwrap(records.last)
        XCTAssertEqual(event["label"] as? String, "Tone 1 kHz")
        XCTAssertEqual(try XCTUnwrap(event["start"] as? Double), 1, accuracy: 1.0)  // within one hop (default 1 s)
        XCTAssertEqual(try XCTUnwrap(event["end"] as? Double), 3, accuracy: 1.0)
    }

    func testSIGTERMClosesOpenEventsAndExitsPromptly() throws {
        let wav = try toneFile(seconds: 30, toneStart: 0.5, toneEnd: 30)
        let daemon = try Daemon(["run", "--model", Daemon.testModel, "--input", "wav:\(wav)"])  // paced at real time
        XCTAssertTrue(daemon.wait(for: 15) { daemon.stdout.contains(#""type":"onset""#) }, daemon.stderr)
        let signalled = Date()
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 2)
        let event = try XCTUnwrap(daemon.records().last { $0["type"] as? String == "event" && $0["label"] as? String == "Tone 1 kHz" },
                                  daemon.stdout)
        XCTAssertLessThan(try XCTUnwrap(event["end"] as? Double), 30)  // closed early, at shutdown
    }

    func testSIGINTAlsoStopsGracefully() throws {
        let wav = try toneFile(seconds: 30, toneStart: 0, toneEnd: 30)
        let daemon = try Daemon(["run", "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertTrue(daemon.wait(for: 15) { daemon.stdout.contains("onset") }, daemon.stderr)
        daemon.signal(SIGINT)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)
        XCTAssertTrue(daemon.stdout.contains(#""type":"event""#))
    }

    func testSIGHUPWithABadConfigKeepsRunningAndAGoodOneApplies() throws {
        let wav = try toneFile(seconds: 60, toneStart: 0, toneEnd: 60)
        let path = try config("output: {format: jsonl}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertTrue(daemon.wait(for: 15) { daemon.stdout.contains("onset") }, daemon.stderr)

        _ = try config("output: {format: jsonl}\nevents:\n  onset_treshold: 0.4\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("not reloaded") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("config.yaml:3: events.onset_treshold: unknown key"), daemon.stderr)
        XCTAssertTrue(daemon.process.isRunning)

        _ = try config("output: {format: text}\n")
        daemon.signal(SIGHUP)
        // The old pipeline closes its event (JSON); the new one starts over in text.
        XCTAssertTrue(daemon.wait(for: 15) { daemon.lines.contains { $0.contains(" onset Tone 1 kHz") } }, daemon.stdout + daemon.stderr)
        XCTAssertTrue(daemon.lines.contains { $0.contains(#""type":"event""#) })
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0)
    }

    func testBadConfigAtStartExitsWithFileKeyAndLine() throws {
        let path = try config("threads: 2\nwindows:\n  hop: fast\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "stdin"])
        XCTAssertNotEqual(daemon.exitStatus(within: 10), 0)
        XCTAssertTrue(daemon.stderr.contains("config.yaml:3: windows.hop: expected a number"), daemon.stderr)
    }

    func testBadInputAndOutputAreReported() throws {
        let missing = try Daemon(["run", "--model", Daemon.testModel, "--input", "wav:/nonexistent.wav"])
        XCTAssertNotEqual(missing.exitStatus(within: 10), 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent.wav"), missing.stderr)
        let output = try Daemon(["run", "--model", Daemon.testModel, "--input", "stdin", "--output", "tcp:1234"])
        XCTAssertNotEqual(output.exitStatus(within: 10), 0)
        XCTAssertTrue(output.stderr.contains("tcp:1234"), output.stderr)
    }

    func testRawPCMOnStdin() throws {
        let daemon = try Daemon(["run", "--model", Daemon.testModel, "--input", "stdin", "--format", "text"])
        let samples = (0 ..< 48000).map { i in Int16(0.3 * 32767 * sin(2 * .pi * 1000 * Double(i) / 16000)) }
        daemon.stdin.write(samples.withUnsafeBytes { Data($0) })
        try daemon.stdin.close()
        XCTAssertEqual(daemon.exitStatus(within: 15), 0, daemon.stderr)
        XCTAssertTrue(daemon.lines.contains { $0.contains("event Tone 1 kHz") }, daemon.stdout)
    }

    /// A datagram socket standing in for systemd's NOTIFY_SOCKET.
    func notifySocket() throws -> (fd: Int32, path: String) {
        let socketPath = directory.appendingPathComponent("notify").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: socketPath.utf8) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return (fd, socketPath)
    }

    func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let received = recv(fd, &buffer, buffer.count, 0)
        return String(decoding: buffer.prefix(max(received, 0)), as: UTF8.self)
    }

    func testNotifiesSystemdWhenReadyAndPingsTheWatchdog() throws {
        let (fd, path) = try notifySocket()
        defer { close(fd) }
        // WatchdogSec=0.4 s: the daemon pings every 0.2 s while its feature stage makes progress.
        let daemon = try Daemon(["run", "--model", Daemon.testModel, "--input", "stdin"],
                                environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"])
        XCTAssertTrue(receive(fd).contains("READY=1"))
        var messages: [String] = []
        for _ in 0 ..< 6 { messages.append(receive(fd)) }
        XCTAssertTrue(messages.contains { $0.contains("WATCHDOG=1") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.hasPrefix("STATUS=") && $0.contains("windows") }, "\(messages)")
        try daemon.stdin.close()
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    func testUnixSocketOutputReachesAClient() throws {
        let socketPath = directory.appendingPathComponent("tagger.sock").path
        let wav = try toneFile(seconds: 30, toneStart: 0, toneEnd: 30)
        let daemon = try Daemon(["run", "--model", Daemon.testModel, "--input", "wav:\(wav)", "--output", "unix:\(socketPath)"])
        XCTAssertTrue(daemon.wait(for: 10) { FileManager.default.fileExists(atPath: socketPath) }, daemon.stderr)
        let attributes = try FileManager.default.attributesOfItem(atPath: socketPath)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o660)
        let client = try FileHandle(forUnixSocket: socketPath)
        var received = Data()
        XCTAssertTrue(daemon.wait(for: 15) {
            received += client.availableDataNonBlocking()
            return String(decoding: received, as: UTF8.self).contains(#""type":"onset""#)
        }, daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socketPath), "socket removed at shutdown")
    }
}

extension FileHandle {
    /// A connected stream socket to `path`, non-blocking for reads.
    convenience init(forUnixSocket path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        self.init(fileDescriptor: fd, closeOnDealloc: true)
    }

    func availableDataNonBlocking() -> Data {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = Glibc.read(fileDescriptor, &buffer, buffer.count)
        return n > 0 ? Data(buffer.prefix(n)) : Data()
    }
}
