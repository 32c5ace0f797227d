import Foundation

/// read(2) until `count` bytes have arrived or the input ends, retrying EINTR and short reads
/// (pipes deliver whatever the writer has flushed; a non-blocking descriptor is waited on). Returns the bytes read: fewer than `count`
/// only at end of input. `name` is the file or `stdin`, for the error.
func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, name: String) throws -> Int {
    var total = 0
    while total < count {
        let n = read(fd, buffer + total, count - total)
        if n > 0 {
            total += n
        } else if n == 0 {
            break
        } else if errno == EAGAIN || errno == EWOULDBLOCK {
            // A descriptor left non-blocking by whoever opened it: wait until it is readable.
            var fds = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&fds, 1, -1)
        } else if errno != EINTR {
            throw AudioInputError(.io, source: name, "read failed: \(String(cString: strerror(errno)))")
        }
    }
    return total
}
