import AudioInput
import Foundation
import Logging
import NIOConcurrencyHelpers
@testable import Tagger
import XCTest

/// A pipe standing in for standard output: (read end, write end).
private func makePipe() throws -> (read: Int32, write: Int32) {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
    return (ends[0], ends[1])
}

/// A pipe whose buffer is already full, so that a writer blocks on its first write whatever the timing.
private func makeFullPipe() throws -> (read: Int32, write: Int32) {
    let (readEnd, writeEnd) = try makePipe()
    let flags = fcntl(writeEnd, F_GETFL)
    _ = fcntl(writeEnd, F_SETFL, flags | O_NONBLOCK)
    let block = [UInt8](repeating: 0x2E, count: 4096)
    while write(writeEnd, block, block.count) > 0 {}
    _ = fcntl(writeEnd, F_SETFL, flags)
    return (readEnd, writeEnd)
}

/// Reads until end of file.
private func readAll(_ descriptor: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(descriptor, &chunk, chunk.count)
        guard n > 0 else { break }
        bytes += chunk[0 ..< n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

final class StdoutSinkTests: XCTestCase {
    func testLinesAreWrittenInOrderWithNewlines() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd) }
        let sink = StdoutSink(fileDescriptor: writeEnd, onClosed: { _ in XCTFail("closed") })
        sink.start()
        for line in ["a", "{\"b\":1}", ""] { sink.write(line: line) }
        sink.finish()
        close(writeEnd)
        XCTAssertEqual(readAll(readEnd), "a\n{\"b\":1}\n\n")
    }

    /// `mast-tagger run | head`: the reader goes away. The process survives (SIGPIPE is ignored),
    /// the failure is reported once, and later lines are discarded.
    func testBrokenPipeIsReportedOnceAndDoesNotKill() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(writeEnd) }
        close(readEnd)
        let reports = NIOLockedValueBox<[StdoutSink.Closed]>([])
        let reported = expectation(description: "broken pipe reported")
        let sink = StdoutSink(fileDescriptor: writeEnd, onClosed: { error in
            reports.withLockedValue { $0.append(error) }
            reported.fulfill()
        })
        sink.start()
        sink.write(line: "nobody reads this")
        wait(for: [reported], timeout: 10)
        for _ in 0 ..< 100 { sink.write(line: "discarded") }
        sink.finish()
        let errors = reports.withLockedValue { $0 }
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?.isBrokenPipe, true)
        XCTAssertTrue(sink.isClosed)
    }

    /// With nobody reading, lines beyond the capacity are dropped and counted; write never waits.
    func testFullQueueDropsLinesWithoutBlocking() throws {
        let (readEnd, writeEnd) = try makeFullPipe()
        defer { close(writeEnd) }
        let sink = StdoutSink(fileDescriptor: writeEnd, capacity: 4096, backpressure: .drop, onClosed: { _ in })
        sink.start()
        let line = String(repeating: "x", count: 100)
        let clock = ContinuousClock()
        var slowest = Duration.zero
        for _ in 0 ..< 2_000 { slowest = max(slowest, clock.measure { sink.write(line: line) }) }
        XCTAssertGreaterThan(sink.droppedLines, 0)
        XCTAssertLessThan(slowest, .seconds(1), "write(line:) must not wait for the reader")
        // The writer thread is stuck in write(2) on the full pipe: finish gives up after its timeout...
        XCTAssertFalse(sink.finish(timeout: .milliseconds(100)))
        close(readEnd)  // ...and once the reader goes, the write fails (EPIPE) and the thread ends.
        XCTAssertTrue(sink.finish(timeout: .seconds(10)))
    }

    /// `.wait`: a slow reader paces the writer and nothing is lost.
    func testWaitOverflowLosesNothing() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd) }
        let received = NIOLockedValueBox("")
        let done = expectation(description: "reader finished")
        Thread {
            received.withLockedValue { $0 = readAll(readEnd) }
            done.fulfill()
        }.start()
        let sink = StdoutSink(fileDescriptor: writeEnd, capacity: 256, backpressure: .wait, onClosed: { _ in XCTFail("closed") })
        sink.start()
        let lines = (0 ..< 20_000).map { "line \($0)" }
        for line in lines { sink.write(line: line) }
        sink.finish()
        close(writeEnd)
        wait(for: [done], timeout: 30)
        XCTAssertEqual(received.withLockedValue { $0 }, lines.map { $0 + "\n" }.joined())
        XCTAssertEqual(sink.droppedLines, 0)
    }

    /// Drops are counted (for STATUS= and the summary) and logged, at most once per interval:
    /// 9,167 of 17,004 lines were dropped behind a sleeping reader and nothing said so.
    func testDropsAreCountedAndLoggedAtABoundedRate() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd); close(writeEnd) }
        let messages = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "test") { _ in CollectingLogHandler(messages: messages) }
        let sink = StdoutSink(fileDescriptor: writeEnd, capacity: 64, logger: logger)
        sink.start()
        // Nobody reads: the pipe fills (64 KiB), then the queue, then lines are dropped.
        for i in 0 ..< 20000 { sink.write(line: "line \(i) of a record that nobody is reading") }
        let dropped = sink.droppedLines
        XCTAssertGreaterThan(dropped, 0)
        XCTAssertEqual(sink.losses, "\(dropped) dropped stdout lines")
        let logged = messages.withLockedValue { $0 }
        XCTAssertEqual(logged.count, 1, "\(logged)")
        XCTAssertEqual(logged.first, "warning: standard output: 1 line(s) dropped (1 in all): its reader is slower than the tagger")
        sink.finish(timeout: .milliseconds(100))
    }

    /// Lines still queued when `finish` gives up on a reader that stopped reading are counted as
    /// dropped and logged: `run` on a live input, stopped behind such a reader, summed up "0
    /// dropped stdout lines" while 86 KB of records stayed unwritten. Logged as an error where the
    /// reader was to pace the tagger (`.wait`), a warning where drops are the policy.
    func testLinesLeftUnwrittenAtFinishAreCountedAndLogged() throws {
        for (backpressure, level) in [(Backpressure.drop, "warning"), (.wait, "error")] {
            let (readEnd, writeEnd) = try makeFullPipe()
            let messages = NIOLockedValueBox<[String]>([])
            let logger = Logger(label: "test") { _ in CollectingLogHandler(messages: messages) }
            let sink = StdoutSink(fileDescriptor: writeEnd, backpressure: backpressure, logger: logger)
            sink.start()
            for i in 0 ..< 10 { sink.write(line: "record \(i)") }
            XCTAssertFalse(sink.finish(timeout: .milliseconds(100)), "the pipe is full: the writer is stuck")
            XCTAssertEqual(sink.droppedLines, 10, "\(backpressure)")
            XCTAssertEqual(sink.losses, "10 dropped stdout lines")
            XCTAssertEqual(messages.withLockedValue { $0 }, [
                "\(level): standard output: 10 line(s) not written at exit: its reader stopped reading (10 dropped in all)",
            ])
            close(readEnd)  // the stuck write fails (EPIPE); the lines stay counted once, as dropped
            XCTAssertTrue(sink.finish(timeout: .seconds(10)))
            XCTAssertEqual(sink.droppedLines, 10)
            XCTAssertEqual(sink.recordsWritten, 0)
            close(writeEnd)
        }
    }

    /// A write that fails for another reason than EPIPE (a full disk) is kept for the command
    /// to turn into a non-zero exit; `tag >/dev/full` said nothing and exited 0.
    func testWriteErrorIsKept() throws {
        let full = open("/dev/full", O_WRONLY)
        try XCTSkipIf(full < 0, "no /dev/full here")
        defer { close(full) }
        let sink = StdoutSink(fileDescriptor: full, backpressure: .wait)
        sink.start()
        sink.write(line: "lost")
        sink.finish()
        XCTAssertEqual(sink.writeError?.errno, ENOSPC)
        XCTAssertEqual(sink.writeError?.isBrokenPipe, false)
    }
}

/// Keeps every message logged through it, as "LEVEL: MESSAGE".
private struct CollectingLogHandler: LogHandler {
    let messages: NIOLockedValueBox<[String]>
    var logLevel = Logger.Level.trace
    var metadata = Logger.Metadata()

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.withLockedValue { $0.append("\(event.level): \(event.message)") }
    }
}
