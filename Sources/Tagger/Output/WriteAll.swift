import Foundation

/// write(2) until all of `bytes` is out, retrying partial writes and EINTR. Returns the errno of
/// the write that failed, or nil. The one write loop of the program (records and log lines).
func writeAll(_ fileDescriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < bytes.count {
        let n = write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if n > 0 {
            offset += n
        } else if n < 0, errno == EINTR {
            continue
        } else {
            return n < 0 ? errno : EIO  // 0 bytes written for a non-empty write: no progress possible
        }
    }
    return nil
}
