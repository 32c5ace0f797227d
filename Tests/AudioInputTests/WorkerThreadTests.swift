import Foundation
import XCTest

@testable import AudioInput

/// The one thread type every blocking stage uses: nothing runs before `start`, the body runs
/// once on a thread of the given name, and `join` waits for it (or gives up at a timeout).
final class WorkerThreadTests: XCTestCase {
    func testJoinWaitsForTheBodyAndGivesUpAtTheTimeout() {
        let thread = WorkerThread(name: "test-worker")
        XCTAssertFalse(thread.hasStarted)
        XCTAssertTrue(thread.join(timeout: 0), "a thread never started has nothing to wait for")

        let release = DispatchSemaphore(value: 0)
        let ran = LockedValue<(count: Int, name: String?)>((0, nil))
        thread.start {
            let name = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
            ran.value = (ran.value.count + 1, name?.trimmingCharacters(in: .whitespacesAndNewlines))
            release.wait()
        }
        XCTAssertTrue(thread.hasStarted)
        XCTAssertFalse(thread.join(timeout: 0.2), "the body is still blocked")
        XCTAssertFalse(thread.hasExited)
        release.signal()
        XCTAssertTrue(thread.join(timeout: 5))
        XCTAssertTrue(thread.hasExited)
        XCTAssertTrue(thread.join(timeout: 0), "a second join returns at once")
        XCTAssertEqual(ran.value.count, 1)
        XCTAssertEqual(ran.value.name, "test-worker")
    }

    func testStopAndJoinEndsACaptureLoopBlockedInPoll() throws {
        let thread = try CaptureThread(name: "test-capture")
        thread.start { stop in
            _ = stop.sleep(seconds: 3600)  // a loop waiting on a device or a back-off delay
        }
        let started = Date()
        XCTAssertTrue(thread.stopAndJoin(timeout: 5, logger: CapturedLog().logger))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }
}
