import Foundation

/// A short-lived helper tool (python, openssl, flac, mosquitto_passwd, a shell) run to its end,
/// with both of its outputs. Both pipes are drained at once: a child that fills one pipe's buffer
/// (64 KiB) while the test reads the other to its end would wait forever, and so would the test.
struct ToolRun {
    let status: Int32
    let stdout: Data
    let stderr: String

    var output: String { String(decoding: stdout, as: UTF8.self) }

    /// Runs `executable` with `arguments` until it exits.
    init(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // stderr on another thread while this one reads stdout; both end at the child's exit.
        let errorBytes = ReadToEnd(errors.fileHandleForReading)
        stdout = output.fileHandleForReading.readDataToEndOfFile()
        stderr = String(decoding: errorBytes.wait(), as: UTF8.self)
        process.waitUntilExit()
        status = process.terminationStatus
    }

    /// What a failed run said, for an assertion's message or an error.
    var failure: String { "exit status \(status): \(stderr)" }
}

/// A file handle read to its end on a thread of its own.
private final class ReadToEnd: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()  // written once by the reading thread, read after `done`

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
