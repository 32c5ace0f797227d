import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import ServiceLifecycleTestKit
@testable import Tagger
import XCTest

final class UnixSocketServerTests: XCTestCase {
    var directory: SocketDirectory!
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    override func setUpWithError() throws {
        directory = try SocketDirectory()
    }

    override func tearDown() {
        directory.removeAll()
    }

    func fileMode(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode : nil
    }

    /// A started server with two clients: one that never reads (a raw socket) and one that does.
    func serverWithAStuckAndAReadingClient(highWaterMark: Int) async throws
        -> (server: UnixSocketServer, stuck: Int32, reader: ReadingClient) {
        let path = directory.file("tagger.sock")
        let server = UnixSocketServer(listener: .path(path), highWaterMark: highWaterMark, logger: logger)
        try await server.start()
        let stuck = try connectedSocket(to: path)
        let reader = try await ReadingClient.connect(to: path)
        try await waitUntil("both clients registered") { server.counters.connected == 2 }
        return (server, stuck, reader)
    }

    func testEveryLineReachesHundredClientsInOrder() async throws {
        let path = directory.file("tagger.sock")
        let server = UnixSocketServer(listener: .path(path), logger: logger)
        try await server.start()
        var clients: [ReadingClient] = []
        for _ in 0 ..< 100 { clients.append(try await ReadingClient.connect(to: path)) }
        try await waitUntil("100 clients registered") { server.counters.connected == 100 }

        let lines = (0 ..< 1000).map { "{\"type\":\"event\",\"n\":\($0)}" }
        for line in lines { server.write(line: line) }
        try await waitUntil("every client to read 1000 lines") { clients.allSatisfy { $0.lineCount == 1000 } }
        let expected = lines.map { $0 + "\n" }.joined()
        for client in clients { XCTAssertEqual(client.snapshot.text, expected) }
        XCTAssertEqual(server.counters, .init(connected: 100, accepted: 100, droppedSlow: 0, linesWritten: 100 * 1000))

        await server.stop()
        try await waitUntil("clients to see the server close") { clients.allSatisfy { $0.snapshot.closed } }
        XCTAssertEqual(server.counters.connected, 0)
    }

    /// A client that never reads is dropped once its buffers fill; a reading client gets every
    /// line, and `write(line:)` keeps returning at once meanwhile.
    func testStuckClientIsDroppedWithoutHoldingUpTheWriterOrOthers() async throws {
        let (server, stuck, reader) = try await serverWithAStuckAndAReadingClient(highWaterMark: 64 * 1024)
        defer { close(stuck) }

        let padding = String(repeating: "x", count: 200)
        var written = 0
        var slowestWrite = Duration.zero
        let clock = ContinuousClock()
        // Chunks of about 50 KB, each read by the reader before the next, so only the stuck client
        // falls behind; 4 MB in all is far more than its kernel buffer plus the 64 KiB mark.
        for _ in 0 ..< 80 where server.counters.droppedSlow == 0 {
            for _ in 0 ..< 256 {
                let line = "\(written) \(padding)"
                slowestWrite = max(slowestWrite, clock.measure { server.write(line: line) })
                written += 1
            }
            let target = written
            try await waitUntil("the reader to catch up") { reader.lineCount == target }
        }
        try await waitUntil("the stuck client to be dropped") { server.counters.droppedSlow == 1 }

        XCTAssertEqual(server.counters.connected, 1)
        XCTAssertLessThan(slowestWrite, .seconds(1), "write(line:) must not wait for a client")
        let expected = (0 ..< written).map { "\($0) \(padding)\n" }.joined()
        XCTAssertEqual(reader.snapshot.text, expected)
        XCTAssertFalse(reader.snapshot.closed)

        // The reader still gets lines written after the drop.
        server.write(line: "after")
        try await waitUntil("the line after the drop") { reader.lineCount == written + 1 }
        await server.stop()
    }

    /// At stop, a client that has not taken the lines buffered for it here loses them: it is
    /// counted as a slow client dropped (it was closed with nothing said). A client that reads
    /// gets every line and is not counted.
    func testStopCountsAClientThatHadNotTakenItsLines() async throws {
        let (server, stuck, reader) = try await serverWithAStuckAndAReadingClient(highWaterMark: 16 * 1024 * 1024)
        defer { close(stuck) }

        // 2 MB: more than the stuck client's kernel buffer, less than the high-water mark.
        let padding = String(repeating: "x", count: 200)
        let count = 10_000
        for n in 0 ..< count { server.write(line: "\(n) \(padding)") }
        try await waitUntil("the reader to take every line") { reader.lineCount == count }
        XCTAssertEqual(server.counters.droppedSlow, 0)

        await server.stop()
        XCTAssertEqual(server.counters.droppedSlow, 1, "the stuck client, closed with lines it never got")
        XCTAssertEqual(server.losses, "1 slow socket clients dropped")
        try await waitUntil("the reader to see the close") { reader.snapshot.closed }
        XCTAssertEqual(reader.lineCount, count)
    }

    func testSocketFileGetsTheConfiguredMode() async throws {
        for mode: mode_t in [0o660, 0o600] {
            let path = directory.file("mode-\(String(mode, radix: 8)).sock")
            let server = UnixSocketServer(listener: .path(path, mode: mode), logger: logger)
            try await server.start()
            let status = try XCTUnwrap(fileMode(path))
            XCTAssertEqual(status & S_IFMT, S_IFSOCK)
            XCTAssertEqual(status & 0o777, mode)
            await server.stop()
        }
    }

    /// Any path bind(2) takes works, up to its 107 bytes (a staging name 13 bytes longer than the
    /// path made 97–107-byte paths fail), and no staging file or directory is left beside it.
    func testLongestPathWorksAndLeavesNothingBeside() async throws {
        let stem = directory.file("")
        let path = stem + String(repeating: "s", count: 107 - stem.utf8.count)
        XCTAssertEqual(path.utf8.count, 107)
        let server = UnixSocketServer(listener: .path(path, mode: 0o600), logger: logger)
        try await server.start()
        XCTAssertEqual(try XCTUnwrap(fileMode(path)) & S_IFMT, S_IFSOCK)
        let folder = (path as NSString).deletingLastPathComponent
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [(path as NSString).lastPathComponent])
        await server.stop()
    }

    func testStaleSocketFileIsReplaced() async throws {
        let path = directory.file("tagger.sock")
        close(try boundSocket(type: Int32(SOCK_STREAM.rawValue), path: path))  // the file stays, nobody listens
        XCTAssertEqual(fileMode(path).map { $0 & S_IFMT }, S_IFSOCK)

        let server = UnixSocketServer(listener: .path(path), logger: logger)
        try await server.start()
        let client = try await ReadingClient.connect(to: path)
        try await waitUntil("the client registered") { server.counters.connected == 1 }
        server.write(line: "hello")
        try await waitUntil("the line") { client.snapshot.text == "hello\n" }
        await server.stop()
    }

    func testRegularFileAtThePathIsRefused() async throws {
        let path = directory.file("tagger.sock")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        let server = UnixSocketServer(listener: .path(path), logger: logger)
        do {
            try await server.start()
            XCTFail("a regular file was replaced")
        } catch {
            XCTAssertTrue("\(error)".contains(path), "\(error)")
            XCTAssertTrue("\(error)".contains("not a socket"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "keep me")
    }

    func testSocketInUseIsRefused() async throws {
        let path = directory.file("tagger.sock")
        let first = UnixSocketServer(listener: .path(path), logger: logger)
        try await first.start()
        do {
            try await UnixSocketServer(listener: .path(path), logger: logger).start()
            XCTFail("a live socket was replaced")
        } catch {
            XCTAssertTrue("\(error)".contains(path), "\(error)")
            XCTAssertTrue("\(error)".contains("another process is listening"), "\(error)")
        }
        let client = try await ReadingClient.connect(to: path)
        try await waitUntil("the client registered with the first server") { first.counters.connected == 1 }
        client.channel.close(promise: nil)
        await first.stop()
    }

    func testGracefulShutdownClosesClientsAndRemovesTheSocket() async throws {
        let path = directory.file("tagger.sock")
        let server = UnixSocketServer(listener: .path(path), logger: logger)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                try await waitUntil("the socket") { fileMode(path) != nil }
                let client = try await ReadingClient.connect(to: path)
                try await waitUntil("the client registered") { server.counters.connected == 1 }
                server.write(line: "last words")
                try await waitUntil("the line") { client.lineCount == 1 }

                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                XCTAssertNil(fileMode(path), "the socket file is still there")
                try await waitUntil("the client to see the close") { client.snapshot.closed }
                XCTAssertEqual(client.snapshot.text, "last words\n")
            }
        }
    }

    /// Socket activation: the server adopts a socket that is already listening and leaves its file.
    func testAdoptsAListeningSocketAndLeavesItsFile() async throws {
        let path = directory.file("activated.sock")
        let descriptor = try boundSocket(type: Int32(SOCK_STREAM.rawValue), path: path, listening: true)
        let server = UnixSocketServer(listener: .fileDescriptor(descriptor), logger: logger)
        try await server.start()
        let client = try await ReadingClient.connect(to: path)
        try await waitUntil("the client registered") { server.counters.connected == 1 }
        server.write(line: "activated")
        try await waitUntil("the line") { client.snapshot.text == "activated\n" }
        await server.stop()
        XCTAssertNotNil(fileMode(path), "the socket file belongs to systemd")
        try await waitUntil("the client to see the close") { client.snapshot.closed }
    }
}
