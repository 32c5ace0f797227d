import Foundation
import XCTest

/// Records are never lost while the exit status says success: output that cannot be written is
/// an error, a recording on a pipe waits for the model, closed standard descriptors are refused,
/// and numbers out of range are refused rather than crash.
final class NoSilentLossTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Runs `mast-tagger ARGS` through /bin/sh with `redirections` (e.g. ">/dev/full", ">&-").
    func shell(_ arguments: [String], _ redirections: String) throws -> (status: Int32, stderr: String) {
        let quoted = ([Daemon.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let run = try ToolRun("/bin/sh", ["-c", "exec \(quoted) \(redirections)"])
        return (run.status, run.stderr)
    }

    /// Runs `mast-tagger ARGS` with its standard output into a pipe of one page that nobody reads.
    func runWithUnreadStdout(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let unread = Pipe(), errors = Pipe()
        let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ, which Glibc's module does not export
        XCTAssertEqual(fcntl(unread.fileHandleForWriting.fileDescriptor, setPipeSize, 4096), 4096)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Daemon.binary)
        process.arguments = arguments
        process.standardOutput = unread
        process.standardError = errors
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    func tone(seconds: Double = 3) throws -> String {
        let url = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(url, seconds: seconds, toneStart: 0.5, toneEnd: 2.5)
        return url.path
    }

    func testUnwritableOutputIsAFailure() throws {
        let wav = try tone()
        let tag = try shell(["tag", "--model", Daemon.testModel, wav], ">/dev/full")
        XCTAssertEqual(tag.status, 1, tag.stderr)
        XCTAssertTrue(tag.stderr.contains("standard output: No space left on device"), tag.stderr)

        let config = directory.appendingPathComponent("files.yaml")
        try "input: {realtime: false}\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try shell(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "wav:\(wav)"], ">/dev/full")
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("No space left on device"), run.stderr)

        // `| head`: the reader leaving is how such a pipeline ends, not an error.
        let head = try shell(["tag", "--model", Daemon.testModel, wav, wav, wav], "| head -c 1 >/dev/null")
        XCTAssertEqual(head.status, 0, head.stderr)
    }

    /// Records that a reader never took are counted and named at exit: `run` used to give up on
    /// them after a second and sum up "0 dropped stdout lines". A file's records wait for the
    /// reader, so leaving some unwritten fails the run; a live input's are dropped by design.
    func testRecordsLeftUnwrittenAtExitAreCountedAndReported() throws {
        let wav = try tone(seconds: 6)
        let config = directory.appendingPathComponent("unread.yaml")
        for (realtime, status, level) in [(false, Int32(1), "error"), (true, 0, "warning")] {
            try "input: {realtime: \(realtime)}\nwindows: {hop: 0.1}\ntags: {top_k: 2}\n"
                .write(to: config, atomically: true, encoding: .utf8)
            let run = try runWithUnreadStdout(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
            XCTAssertEqual(run.status, status, "realtime \(realtime): \(run.stderr)")
            let report = try XCTUnwrap(run.stderr.split(separator: "\n").first { $0.contains("not written at exit") }, run.stderr)
            XCTAssertTrue(report.contains("\(level) mast-tagger: standard output: "), String(report))
            XCTAssertTrue(report.contains("line(s) not written at exit: its reader stopped reading"), String(report))
        }
    }

    func testClosedStandardDescriptorsAreRefused() throws {
        let wav = try tone()
        let run = try shell(["run", "--model", Daemon.testModel, "--input", "wav:\(wav)"], ">&-")
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("standard output was closed at start"), run.stderr)
        // Before, fd 0 was taken by an internal eventfd, the read "failed" with EINVAL, and the exit was 0.
        let stdin = try shell(["run", "--model", Daemon.testModel, "--input", "stdin"], "<&-")
        XCTAssertNotEqual(stdin.status, 0)
        XCTAssertTrue(stdin.stderr.contains("standard input was closed at start"), stdin.stderr)
        let tag = try shell(["tag", "--model", Daemon.testModel, wav], ">&-")
        XCTAssertNotEqual(tag.status, 0)
    }

    /// A recording piped in faster than real time waits for the model: 12 of 17 windows were
    /// dropped, exit 0, nothing said. A hop of 0.05 s asks for many more windows than the model
    /// keeps up with in a debug build.
    func testARecordingOnStdinLosesNoWindow() throws {
        let daemon = try Daemon(["run", "--model", Daemon.testModel, "--input", "stdin", "--hop", "0.05"])
        let samples = (0 ..< 16000 * 6).map { i in Int16(0.3 * 32767 * sin(2 * .pi * 1000 * Double(i) / 16000)) }
        try daemon.stdin.write(contentsOf: samples.withUnsafeBytes { Data($0) })
        try daemon.stdin.close()
        XCTAssertEqual(daemon.exitStatus(within: 60), 0, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains(" 0 dropped windows"), daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("0 dropped stdout lines"), daemon.stderr)
    }

    /// Each was a SIGILL (a Double → Int trap) or gigabytes of memory.
    func testOutOfRangeFlagsAndHeadersAreErrorsNotCrashes() throws {
        let wav = try tone()
        for (flag, value, key) in [("--hop", "1e30", "windows.hop"), ("--threads", "1000000", "threads")] {
            let tag = try Daemon(["tag", "--model", Daemon.testModel, flag, value, wav])
            XCTAssertEqual(tag.exitStatus(within: 10), 1, tag.stderr)
            XCTAssertTrue(tag.stderr.contains("\(key): must be within") || tag.stderr.contains("\(key): 1e+30 s is not"), tag.stderr)
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: wav))
        bytes.replaceSubrange(24 ..< 28, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let hostile = directory.appendingPathComponent("rate.wav")
        try bytes.write(to: hostile)
        let tag = try Daemon(["tag", "--model", Daemon.testModel, hostile.path])
        XCTAssertEqual(tag.exitStatus(within: 10), 1, tag.stderr)
        XCTAssertTrue(tag.stderr.contains("sample rate of 4294967295 Hz"), tag.stderr)
    }

    func testRootIsWarnedAboutAWorldWritableConfiguration() throws {
        try XCTSkipIf(geteuid() != 0, "only root is warned")
        let config = directory.appendingPathComponent("open.yaml")
        try "threads: 1\n".write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(config.path, 0o666), 0)
        let daemon = try Daemon(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "stdin"])
        try daemon.stdin.close()
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("running as root with \(config.path) writable by every user"), daemon.stderr)
    }

    /// Live input drops what the model cannot keep up with, and says so: a warning at most once
    /// per health interval, and the counts in the summary.
    func testLiveDropsAreLoggedAndSummarised() throws {
        let notify = try NotifySocket(in: directory)
        defer { notify.close() }
        let config = directory.appendingPathComponent("live.yaml")
        try "input: {stdin_live: true}\nwindows: {hop: 0.01, queue: 1}\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "stdin"],
                                environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])
        XCTAssertTrue(notify.receive().contains("READY=1"))
        let samples = [Int16](repeating: 0, count: 16000 * 20)
        try daemon.stdin.write(contentsOf: samples.withUnsafeBytes { Data($0) })
        XCTAssertTrue(daemon.wait(for: 20) { daemon.stderr.contains("warning mast-tagger: dropped ") }, daemon.stderr)
        try daemon.stdin.close()
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        let summary = try XCTUnwrap(daemon.stderr.split(separator: "\n").last { $0.contains("stopped status=") })
        XCTAssertFalse(summary.contains(" 0 dropped windows"), String(summary))
    }
}
