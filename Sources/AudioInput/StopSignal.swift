import Atomics
import Foundation

/// A stop request a capture thread can sleep or poll on: a pipe whose read end becomes
/// readable when `fire()` is called, so a thread blocked in poll() on a device, a pipe or a back-off
/// delay wakes at once instead of at the end of its timeout. This is what lets `stop()`
/// return within a second whatever the thread was waiting for.
final class StopSignal: @unchecked Sendable {
    /// The pipe's read end, readable once fired; never reset. The write end gets one byte.
    let fileDescriptor: Int32
    private let writeEnd: Int32
    private let fired = ManagedAtomic<Bool>(false)

    init(owner: String) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw AudioInputError(.io, source: owner, "cannot create a stop pipe: \(String(cString: strerror(errno)))")
        }
        for fd in ends {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        fileDescriptor = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(fileDescriptor)
        close(writeEnd)
    }

    var isFired: Bool { fired.load(ordering: .acquiring) }

    func fire() {
        guard !fired.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Sleeps `seconds` unless fired first; returns false when fired (the caller should stop).
    func sleep(seconds: Double) -> Bool {
        var fd = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        _ = Self.poll(&fd, count: 1, timeoutSeconds: seconds)
        return !isFired
    }

    /// poll() on `count` descriptors, retrying on EINTR with the remaining time. Returns
    /// poll's result (0 on timeout) or -errno.
    static func poll(_ fds: UnsafeMutablePointer<pollfd>, count: Int, timeoutSeconds: Double) -> Int32 {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(timeoutSeconds, 0) * 1e9)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let remainingMs = now >= deadline ? 0 : Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            let result = Glibc.poll(fds, nfds_t(count), remainingMs)
            if result >= 0 { return result }
            if errno != EINTR { return -errno }
        }
    }
}
