import Foundation
import Logging

/// A dedicated OS thread for one source's blocking loop (device reads, file reads, paced
/// sleeps): not a Swift concurrency task, because those loops block in poll()/read() and
/// must not occupy a cooperative-pool thread. `stopAndJoin` fires the stop signal and waits
/// for the loop to return.
final class CaptureThread: @unchecked Sendable {
    let stop: StopSignal
    private let exited = DispatchSemaphore(value: 0)
    private let name: String

    /// Starts `body` on a new thread named `name`; `body` should return soon after `stop` fires.
    init(name: String, body: @escaping @Sendable (StopSignal) -> Void) throws {
        let stop = try StopSignal(owner: name)
        self.stop = stop
        self.name = name
        let exited = exited
        let thread = Thread {
            body(stop)
            exited.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Fires the stop signal and waits up to `timeout` seconds for the loop to return.
    /// Returns false (and logs) when it did not; the thread is then left to finish on its own.
    @discardableResult
    func stopAndJoin(timeout: Double, logger: Logger) -> Bool {
        stop.fire()
        if exited.wait(timeout: .now() + .nanoseconds(Int(timeout * 1e9))) == .success {
            exited.signal() // so a second call returns at once too
            return true
        }
        logger.error("\(name): capture thread did not stop within \(timeout) s; leaving it to finish")
        return false
    }
}

/// Hands values that are not Sendable (a reader, a pipeline) from `start` to the capture
/// thread: the starting thread creates them, moves them here, and never touches them again.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
}
