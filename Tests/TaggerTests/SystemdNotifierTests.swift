import Foundation
import NIOConcurrencyHelpers
@testable import Tagger
import XCTest

final class SystemdNotifierTests: XCTestCase {
    var directory: SocketDirectory!

    override func setUpWithError() throws {
        directory = try SocketDirectory()
    }

    override func tearDown() {
        directory.removeAll()
    }

    /// A datagram socket standing in for systemd's, at a path; its receives time out after 5 s.
    func listener() throws -> (notifySocket: String, descriptor: Int32) {
        let path = directory.file("notify")
        let descriptor = try boundSocket(type: Int32(SOCK_DGRAM.rawValue), path: path)
        setReceiveTimeout(descriptor, seconds: 5)
        return (path, descriptor)
    }

    /// The next datagram, or nil after the timeout.
    func receive(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(descriptor, &buffer, buffer.count, 0)
        return n >= 0 ? String(decoding: buffer[0 ..< n], as: UTF8.self) : nil
    }

    /// A service manager that stops reading must not block the daemon: once its socket's queue is
    /// full, notifications fail at once (they used to block in sendto, which hung shutdown, since
    /// the task sending WATCHDOG=1 could not end).
    func testAFullNotifySocketNeverBlocks() throws {
        let (socket, descriptor) = try listener()
        defer { close(descriptor) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket])
        let done = DispatchSemaphore(value: 0)
        let failures = NIOLockedValueBox(0)
        Thread {
            for _ in 0 ..< 5000 {  // far beyond the queue of a datagram socket nobody reads
                do { try notifier.status("a status line as long as the daemon's, with its counters and losses") } catch {
                    failures.withLockedValue { $0 += 1 }
                }
            }
            done.signal()
        }.start()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "notify blocked on a full socket")
        XCTAssertGreaterThan(failures.withLockedValue { $0 }, 0)
    }

    func testSendsTheExactDatagrams() throws {
        let (socket, descriptor) = try listener()
        defer { close(descriptor) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket])
        XCTAssertTrue(notifier.isEnabled)

        try notifier.ready()
        XCTAssertEqual(receive(descriptor), "READY=1")
        try notifier.ready(status: "tagging hw:1")
        XCTAssertEqual(receive(descriptor), "READY=1\nSTATUS=tagging hw:1")
        try notifier.status("two\nlines")
        XCTAssertEqual(receive(descriptor), "STATUS=two lines")
        try notifier.watchdog()
        XCTAssertEqual(receive(descriptor), "WATCHDOG=1")
        try notifier.stopping()
        XCTAssertEqual(receive(descriptor), "STOPPING=1")

        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let before = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        try notifier.reloading()
        let reloading = try XCTUnwrap(receive(descriptor)).split(separator: "\n")
        XCTAssertEqual(reloading.count, 2)
        XCTAssertEqual(reloading.first, "RELOADING=1")
        let stamp = try XCTUnwrap(reloading.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        XCTAssertTrue(reloading.last!.hasPrefix("MONOTONIC_USEC="))
        XCTAssertGreaterThanOrEqual(stamp, before)
        XCTAssertLessThan(stamp - before, 60_000_000)
    }

    func testAbstractSocket() throws {
        let name = "mast-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        // Abstract address: sun_path is a NUL byte then the name, and the length ends with the name.
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: [0] + Array(name.utf8)) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + 1 + name.utf8.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        XCTAssertEqual(bound, 0, String(cString: strerror(errno)))
        setReceiveTimeout(descriptor, seconds: 5)

        try SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name]).ready()
        XCTAssertEqual(receive(descriptor), "READY=1")
    }

    func testWithoutNotifySocketNothingHappens() throws {
        let notifier = SystemdNotifier(environment: [:])
        XCTAssertFalse(notifier.isEnabled)
        XCTAssertNil(notifier.watchdogInterval)
        try notifier.ready()
        try notifier.watchdog()
    }

    func testMissingSocketIsAnErrorNamingIt() {
        let path = directory.file("nobody-here")
        XCTAssertThrowsError(try SystemdNotifier(environment: ["NOTIFY_SOCKET": path]).ready()) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        XCTAssertThrowsError(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "vsock:2:1234"]).ready()) { error in
            XCTAssertTrue("\(error)".contains("vsock:2:1234"), "\(error)")
        }
    }

    func testWatchdogIntervalIsHalfOfWatchdogUsec() {
        let pid = getpid()
        XCTAssertEqual(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000"]).watchdogInterval, .seconds(5))
        XCTAssertEqual(SystemdNotifier(environment: ["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "\(pid)"]).watchdogInterval,
                       .milliseconds(1500))
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "\(pid + 1)"]).watchdogInterval)
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval)
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval)
    }
}
