import Foundation
import Logging

/// One dedicated OS thread for one blocking loop: a capture or file read, the feature stage,
/// inference, a writer, a network client. Not a Swift concurrency task, because these loops
/// block in poll(), read(), write() or a condition wait and must not occupy a thread of the
/// cooperative pool.
///
/// Every such stage has the same lifecycle:
///
///     let thread = WorkerThread(name: "mast-…")   // nothing runs yet: an owner that is never
///     thread.start { loop() }                      //   started leaks nothing
///     … tell the loop to stop (the owner's flag, a StopSignal) …
///     thread.join(timeout: 1)                      // the loop has returned, or the timeout passed
///
/// How a loop is told to stop belongs to its owner (a flag under its lock, a stop pipe it
/// polls); how it is started and waited for is this type's.
public final class WorkerThread: @unchecked Sendable {
    public let name: String
    private enum Phase { case idle, running, exited }
    private let condition = NSCondition()
    private var phase = Phase.idle  // guarded by `condition`

    /// Names the thread; `start` runs it.
    public init(name: String) {
        self.name = name
    }

    /// Runs `body` once on a new thread. `body` is `sending`: what it captures (a reader, a
    /// pipeline made on the calling thread) is the new thread's alone from here on.
    public func start(_ body: sending @escaping () -> Void) {
        condition.withLock {
            precondition(phase == .idle, "\(name): start() once")
            phase = .running
        }
        // Safe: `sending` guarantees the caller keeps no access to what the closure captures.
        nonisolated(unsafe) let body = body
        let thread = Thread { [self] in
            nameThisThread()
            body()
            condition.withLock {
                phase = .exited
                condition.broadcast()
            }
        }
        thread.start()
    }

    /// Gives the running thread `name` where the system shows it (`ps -L`, `top -H`, /proc): on
    /// Linux, Foundation's `Thread.name` does not reach the kernel, and pthread_setname_np is a
    /// GNU extension that Swift's Glibc module leaves out. The kernel keeps 15 bytes.
    private func nameThisThread() {
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    public var hasStarted: Bool { condition.withLock { phase != .idle } }
    /// The body has returned (false for a thread never started).
    public var hasExited: Bool { condition.withLock { phase == .exited } }

    /// Waits until the body has returned, at most `timeout` seconds (nil: as long as it takes).
    /// Returns false when the timeout passed first; the thread is then left to finish on its
    /// own. A thread that was never started has nothing to wait for: true at once.
    @discardableResult
    public func join(timeout: Double? = nil) -> Bool {
        let deadline = timeout.map { Date() + $0 }
        return condition.withLock {
            while phase == .running {
                if let deadline {
                    guard condition.wait(until: deadline) else { return phase != .running }
                } else {
                    condition.wait()
                }
            }
            return true
        }
    }
}

/// A capture or reader thread: a `WorkerThread` whose loop polls a `StopSignal`, so that
/// `stopAndJoin` ends it within a second whatever it was waiting for (a device, a pipe, a
/// FIFO's writer, a back-off delay).
final class CaptureThread: Sendable {
    let stop: StopSignal
    private let thread: WorkerThread

    init(name: String) throws {
        stop = try StopSignal(owner: name)
        thread = WorkerThread(name: name)
    }

    /// Runs `body(stop)`; `body` should return soon after `stop` fires.
    func start(_ body: sending @escaping (StopSignal) -> Void) {
        let stop = stop
        thread.start { body(stop) }
    }

    /// Fires the stop signal and waits up to `timeout` seconds for the loop to return.
    /// Returns false (and logs) when it did not; the thread is then left to finish on its own.
    @discardableResult
    func stopAndJoin(timeout: Double, logger: Logger) -> Bool {
        stop.fire()
        guard thread.join(timeout: timeout) else {
            logger.error("\(thread.name): capture thread did not stop within \(timeout) s; leaving it to finish")
            return false
        }
        return true
    }
}
