import Foundation
import XCTest

final class ToolRunTests: XCTestCase {
    /// A tool that writes more than a pipe holds to stderr before it writes stdout: reading
    /// stdout to its end first would wait for ever, since the tool waits for stderr's reader.
    func testAToolThatFillsStderrBeforeStdoutIsReadToTheEnd() throws {
        let script = "head -c 200000 /dev/zero | tr '\\0' e >&2; echo done; exit 3"
        let finished = DispatchSemaphore(value: 0)
        let result = Outcome()
        Thread.detachNewThread {
            result.run = Result { try ToolRun("/bin/sh", ["-c", script]) }
            finished.signal()
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "the run never ended: a pipe was left unread")
        let run = try XCTUnwrap(result.run).get()
        XCTAssertEqual(run.status, 3)
        XCTAssertEqual(run.output, "done\n")
        XCTAssertEqual(run.stderr.count, 200_000)
        XCTAssertTrue(run.stderr.allSatisfy { $0 == "e" })
    }
}

/// Carries the run from the thread that made it to the test, after the semaphore.
private final class Outcome: @unchecked Sendable {
    var run: Result<ToolRun, Error>?
}
