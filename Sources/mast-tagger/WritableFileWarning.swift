import Foundation
import Logging

/// Running as root from a configuration or model file that any user may write hands every user
/// what the daemon reads and runs; said once at start, since nothing else would notice.
func warnIfWorldWritable(_ paths: [String], logger: Logger) {
    guard geteuid() == 0 else { return }
    for path in paths {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IWOTH != 0 {
            logger.warning("running as root with \(path) writable by every user (mode \(String(info.st_mode & 0o7777, radix: 8))): anyone can change what this daemon reads; chmod o-w it")
        }
    }
}
