import Foundation

/// read(2) until `count` bytes have arrived or the input ends, retrying EINTR and short reads
/// (pipes deliver whatever the writer has flushed; a non-blocking descriptor is waited on). Returns the bytes read: fewer than `count`
/// only at end of input. `name` is the file or `stdin`, for the error. With `stop`, a wait for a
/// non-blocking descriptor (a FIFO whose writer is slow) ends when it fires, as an error.
func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, name: String, stop: StopSignal? = nil) throws -> Int {
    var total = 0
    while total < count {
        let n = read(fd, buffer + total, count - total)
        if n > 0 {
            total += n
        } else if n == 0 {
            break
        } else if errno == EAGAIN || errno == EWOULDBLOCK {
            // A non-blocking descriptor: wait until it is readable, or until `stop` fires.
            try waitUntilReadable(fd, name: name, stop: stop)
        } else if errno != EINTR {
            throw AudioInputError(.io, source: name, "read failed: \(String(cString: strerror(errno)))")
        }
    }
    return total
}

/// Waits until `fd` is readable (or its writer has gone), or until `stop` fires, which throws.
func waitUntilReadable(_ fd: Int32, name: String, stop: StopSignal?) throws {
    var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
               pollfd(fd: stop?.fileDescriptor ?? -1, events: Int16(POLLIN), revents: 0)]
    while true {
        let ready = StopSignal.poll(&fds, count: 2, timeoutSeconds: 3600)
        if stop?.isFired == true { throw AudioInputError(.io, source: name, "stopped while waiting for input") }
        if ready < 0 { throw AudioInputError(.io, source: name, "poll failed: \(String(cString: strerror(-ready)))") }
        if ready > 0 { return }
    }
}
