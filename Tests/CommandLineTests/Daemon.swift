import Foundation
import XCTest

/// Runs the built `mast-tagger` binary as a child process, the way users and systemd do.
final class Daemon: @unchecked Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("mast-tagger").path
    static let testModel = repository.appendingPathComponent("Tests/TaggerTests/Fixtures/test-tones.safetensors").path

    let process = Process()
    private let stdoutPipe = Pipe(), stderrPipe = Pipe(), stdinPipe = Pipe()
    private let lock = NSLock()
    private var out = Data(), err = Data()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        // A daemon that exited must fail the test that writes to its stdin, not kill the test process.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = stdinPipe
        // Weak: a handler may still run after a failed test has let go of its Daemon.
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.out += d }
        }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.err += d }
        }
        try process.run()
    }

    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    var stdin: FileHandle { stdinPipe.fileHandleForWriting }

    func records() -> [[String: Any]] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits until `condition` holds, at most `timeout` seconds.
    @discardableResult
    func wait(for timeout: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    /// Waits for the process to exit; returns its status, or nil after `timeout` seconds (then kills it).
    func exitStatus(within timeout: Double) -> Int32? {
        guard wait(for: timeout, until: { !process.isRunning }) else {
            process.terminate()
            return nil
        }
        process.waitUntilExit()
        Thread.sleep(forTimeInterval: 0.05)  // let the pipe handlers drain
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    deinit {
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { process.terminate() }
    }

    /// A scratch directory for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mast-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A 16-bit mono WAV of `seconds`, with a 1 kHz tone between `toneStart` and `toneEnd`.
    static func writeToneWAV(_ url: URL, seconds: Double, toneStart: Double, toneEnd: Double, rate: Int = 16000) throws {
        let samples = (0 ..< Int(seconds * Double(rate))).map { i -> Int16 in
            let t = Double(i) / Double(rate)
            let tone = t >= toneStart && t < toneEnd ? 0.3 * sin(2 * .pi * 1000 * t) : 0
            return Int16(max(-1, min(1, tone + 1e-4 * Double.random(in: -1 ... 1))) * 32767)
        }
        var data = Data("RIFF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        append(UInt32(36 + samples.count * 2)); data += Data("WAVEfmt ".utf8)
        append(UInt32(16)); append(UInt16(1)); append(UInt16(1)); append(UInt32(rate)); append(UInt32(rate * 2))
        append(UInt16(2)); append(UInt16(16)); data += Data("data".utf8); append(UInt32(samples.count * 2))
        for s in samples { append(s) }
        try data.write(to: url)
    }
}
