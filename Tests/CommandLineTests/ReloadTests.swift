import Foundation
import XCTest

/// Reloads and signals against the running binary: a reload is one swap that keeps the input,
/// reloads and shutdown never interleave, and signals are trapped before READY=1.
final class ReloadTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    @discardableResult
    func config(_ text: String) throws -> String {
        let url = directory.appendingPathComponent("config.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func toneFile(seconds: Double = 60) throws -> String {
        let url = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(url, seconds: seconds, toneStart: 0, toneEnd: seconds)
        return url.path
    }

    /// A daemon tagging a long tone at real time, with a `tags` record per window.
    func taggingDaemon(_ yaml: String = "tags: {top_k: 1}\n", model: String = Daemon.testModel,
                       environment: [String: String] = [:]) throws -> Daemon {
        let path = try config(yaml)
        let daemon = try Daemon(["run", "--config", path, "--model", model, "--input", "wav:\(try toneFile())"],
                                environment: environment)
        XCTAssertTrue(daemon.wait(for: 15) { daemon.stdout.contains(#""type":"tags""#) }, daemon.stderr)
        return daemon
    }

    func count(_ text: String, in daemon: Daemon) -> Int { daemon.stderr.components(separatedBy: text).count - 1 }

    func tagStarts(_ daemon: Daemon) -> [Double] {
        daemon.records().filter { $0["type"] as? String == "tags" }.compactMap { $0["start"] as? Double }
    }

    /// The input stays and stream time continues: a WAV was read from its start again and the
    /// times went back to 0.
    func testReloadThatKeepsTheInputContinuesStreamTime() throws {
        let daemon = try taggingDaemon()
        XCTAssertTrue(daemon.wait(for: 15) { (tagStarts(daemon).last ?? 0) >= 2 }, daemon.stdout)
        try config("tags: {top_k: 2}\nwindows: {hop: 0.5}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("configuration reloaded") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("input=kept"), daemon.stderr)
        let before = tagStarts(daemon).count
        XCTAssertTrue(daemon.wait(for: 10) { tagStarts(daemon).count >= before + 3 }, daemon.stdout)
        let starts = tagStarts(daemon)
        XCTAssertEqual(starts, starts.sorted(), "stream time went backwards: \(starts)")
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)
    }

    /// threads and precision are options of the model: a reload that changes them loads a new
    /// model beside the running one (changing a process-wide thread count was a SIGSEGV), and a
    /// reload that fails to load one leaves the running one as it was.
    func testReloadChangingThreadsAndPrecisionOrFailingToLoadTheModel() throws {
        let daemon = try taggingDaemon("threads: 1\nprecision: f32\ntags: {top_k: 1}\n")
        try config("threads: 2\nprecision: auto\ntags: {top_k: 1}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("model=loaded") }, daemon.stderr)

        let records = tagStarts(daemon).count
        XCTAssertTrue(daemon.wait(for: 10) { tagStarts(daemon).count >= records + 2 }, "still tagging: \(daemon.stderr)")
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)

        // The model named by the file (a --model flag would override it on every reload).
        let fromFile = try config("threads: 1\nmodel: \(Daemon.testModel)\ntags: {top_k: 1}\n")
        let second = try Daemon(["run", "--config", fromFile, "--input", "wav:\(try toneFile())"])
        XCTAssertTrue(second.wait(for: 15) { second.stdout.contains(#""type":"tags""#) }, second.stderr)
        try config("threads: 2\nmodel: /nonexistent.safetensors\ntags: {top_k: 1}\n")
        second.signal(SIGHUP)
        XCTAssertTrue(second.wait(for: 10) { second.stderr.contains("not reloaded") }, second.stderr)
        XCTAssertTrue(second.stderr.contains("/nonexistent.safetensors"), second.stderr)
        let before = tagStarts(second).count
        XCTAssertTrue(second.wait(for: 10) { tagStarts(second).count >= before + 2 }, "still tagging: \(second.stderr)")
        second.signal(SIGTERM)
        XCTAssertEqual(second.exitStatus(within: 5), 0, second.stderr)
    }

    /// On stdin a reload keeps the one reader: a new reader took over from a stopped one, which
    /// held part of a frame (or up to 8 KB) that was lost, and stream time started again at 0.
    func testReloadOnStdinKeepsTheStreamIntact() throws {
        let path = try config("tags: {top_k: 1}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "stdin"])
        let tone = (0 ..< 16000 * 12).map { i in Int16(0.3 * 32767 * sin(2 * .pi * 1000 * Double(i) / 16000)) }
        let bytes = tone.withUnsafeBytes { Data($0) }
        // Odd-sized writes at about 3x real time, so that a reload lands between two halves of a sample.
        let writer = Thread {
            for offset in stride(from: 0, to: bytes.count, by: 4001) {
                try? daemon.stdin.write(contentsOf: bytes[offset ..< min(offset + 4001, bytes.count)])
                Thread.sleep(forTimeInterval: 0.04)
            }
            try? daemon.stdin.close()
        }
        writer.start()
        XCTAssertTrue(daemon.wait(for: 15) { tagStarts(daemon).count >= 2 }, daemon.stderr)
        let before = tagStarts(daemon).count
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("configuration reloaded") }, daemon.stderr)
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("input=kept"), daemon.stderr)
        // One reader from start to end: stream time runs on through the reload and every
        // sample is accounted for (12 s of audio, windows every second).
        let starts = tagStarts(daemon)
        XCTAssertGreaterThan(starts.count, before)
        XCTAssertEqual(starts, starts.sorted(), "stream time went backwards: \(starts)")
        XCTAssertEqual(starts.last ?? 0, 11, accuracy: 1, "\(starts)")
    }

    /// A model file replaced at the same path is loaded again on reload; one overwritten in place
    /// (truncated) under the running daemon does not crash it (it was mapped: SIGBUS).
    func testChangedModelFileIsReloadedAndOverwritingItIsHarmless() throws {
        let model = directory.appendingPathComponent("model.safetensors")
        try FileManager.default.copyItem(atPath: Daemon.testModel, toPath: model.path)
        let daemon = try taggingDaemon(model: model.path)
        try FileHandle(forWritingTo: model).truncate(atOffset: 100)
        let records = tagStarts(daemon).count
        XCTAssertTrue(daemon.wait(for: 10) { tagStarts(daemon).count >= records + 2 }, "still tagging: \(daemon.stderr)")

        let replacement = directory.appendingPathComponent("new.safetensors")
        try FileManager.default.copyItem(atPath: Daemon.testModel, toPath: replacement.path)
        XCTAssertEqual(rename(replacement.path, model.path), 0)
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("changed on disk") && daemon.stderr.contains("model=loaded") },
                      daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)
    }

    /// Keys bound at start say so instead of claiming a reload applied them.
    func testKeysThatNeedARestartAreLogged() throws {
        let daemon = try taggingDaemon()
        try config("tags: {top_k: 1}\noutput: {target: \"unix:\(directory.path)/x.sock\"}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("output.target changed") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("takes effect at restart"), daemon.stderr)
        // Live input to a file read as fast as it goes: stdout's drop policy stays until a restart.
        try config("tags: {top_k: 1}\ninput: {realtime: false}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("the new input is not live: restart to change that") },
                      daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)
    }

    /// A reload to a FIFO no writer has opened: the running input stays until the new one is
    /// started, and nothing blocks SIGTERM (the daemon was stuck in open()).
    func testReloadToAFIFOWithoutAWriterStillStopsOnSIGTERM() throws {
        let fifo = directory.appendingPathComponent("fifo.wav").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let path = try config("tags: {top_k: 1}\ninput: {source: \"wav:\(try toneFile())\"}\n")
        let second = try Daemon(["run", "--config", path, "--model", Daemon.testModel])
        XCTAssertTrue(second.wait(for: 15) { second.stdout.contains(#""type":"tags""#) }, second.stderr)
        try config("tags: {top_k: 1}\ninput: {source: \"wav:\(fifo)\"}\n")
        second.signal(SIGHUP)
        XCTAssertTrue(second.wait(for: 10) { second.stderr.contains("configuration reloaded") }, second.stderr)
        second.signal(SIGTERM)
        XCTAssertEqual(second.exitStatus(within: 5), 0, "SIGTERM while the input waits for a writer: \(second.stderr)")
    }

    /// 100 rejected reloads leave no thread behind (each one leaked its inference thread).
    func testRejectedReloadsLeakNoThreads() throws {
        let path = try config("tags: {top_k: 1}\ninput: {source: \"wav:\(try toneFile())\"}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel])
        XCTAssertTrue(daemon.wait(for: 15) { daemon.stdout.contains(#""type":"tags""#) }, daemon.stderr)
        func threads() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.process.processIdentifier)/task").count) ?? 0
        }
        let before = threads()
        try config("tags: {top_k: 1}\ninput: {source: \"wav:\(directory.path)/missing.wav\"}\n")
        for attempt in 1 ... 100 {
            daemon.signal(SIGHUP)
            XCTAssertTrue(daemon.wait(for: 10) { self.count("not reloaded", in: daemon) >= attempt }, daemon.stderr)
        }
        // Dispatch may add a worker or two of its own; a leak is one thread per reload.
        XCTAssertLessThanOrEqual(threads(), before + 3, "threads before: \(before)")
        XCTAssertTrue(daemon.process.isRunning)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 5), 0, daemon.stderr)
    }

    /// SIGTERM and SIGHUP at once, in either order: the daemon exits (a reload used to start a
    /// new input after shutdown had stopped the old one, and the daemon never exited).
    func testSIGTERMAndSIGHUPTogetherAlwaysExit() throws {
        let path = try config("tags: {top_k: 1}\ninput: {source: \"wav:\(try toneFile())\"}\n")
        for (first, second) in [(SIGTERM, SIGHUP), (SIGHUP, SIGTERM), (SIGTERM, SIGHUP), (SIGHUP, SIGTERM)] {
            let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel])
            XCTAssertTrue(daemon.wait(for: 15) { daemon.stdout.contains(#""type":"tags""#) }, daemon.stderr)
            daemon.signal(first)
            daemon.signal(second)
            XCTAssertEqual(daemon.exitStatus(within: 10), 0, "\(first) then \(second): \(daemon.stderr)")
        }
    }

    /// SIGHUP as soon as READY=1 is sent reloads; its default action (exit) used to win.
    func testSIGHUPRightAfterReadyReloads() throws {
        let path = try config("tags: {top_k: 1}\n")
        for _ in 0 ..< 5 {
            let notify = try NotifySocket(in: directory)
            defer { notify.close() }
            let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "stdin"],
                                    environment: ["NOTIFY_SOCKET": notify.path])
            XCTAssertTrue(notify.receive().contains("READY=1"))
            daemon.signal(SIGHUP)
            XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("configuration reloaded") }, daemon.stderr)
            XCTAssertTrue(daemon.process.isRunning)
            try daemon.stdin.close()
            XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
        }
    }
}

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
struct NotifySocket {
    let fd: Int32
    let path: String

    init(in directory: URL) throws {
        path = directory.appendingPathComponent("notify-\(UUID().uuidString.prefix(6))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let received = recv(fd, &buffer, buffer.count, 0)
        return String(decoding: buffer.prefix(max(received, 0)), as: UTF8.self)
    }

    func close() { Glibc.close(fd) }
}
