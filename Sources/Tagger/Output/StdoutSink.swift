import AudioInput
import Foundation
import Logging

/// Writes record lines to standard output from a thread of its own, so that a slow reader (a pipe
/// into a busy program) never stalls the pipeline.
///
/// SIGPIPE: `init` ignores it process-wide (`signal(SIGPIPE, SIG_IGN)`; NIO does the same on Linux
/// when it opens a socket). Without that, writing to a pipe whose reader went away
/// (`mast-tagger run | head`) kills the process on the spot, before it can stop cleanly. With it,
/// the write fails with EPIPE: the sink calls `onClosed` once, discards every later line, and the
/// daemon decides whether to exit.
///
/// `start()` starts the writer thread; `finish()` before exiting returns once every queued line
/// is written, or gives up after its timeout and counts what it gave up on as dropped.
public final class StdoutSink: RecordSink, @unchecked Sendable {

    /// Standard output can no longer be written (EPIPE: the reader went away).
    public struct Closed: Error, CustomStringConvertible {
        public let errno: Int32
        public var isBrokenPipe: Bool { errno == EPIPE }
        public var description: String {
            "standard output: \(String(cString: strerror(errno)))" + (isBrokenPipe ? " (the reader went away)" : "")
        }
    }

    /// Least time between two log lines about dropped lines.
    static let dropReportInterval = 10.0

    private let fileDescriptor: Int32
    private let capacity: Int
    private let backpressure: Backpressure
    private let logger: Logger?
    private let onClosed: @Sendable (Closed) -> Void
    private let writer = WorkerThread(name: "mast-stdout")
    private let condition = NSCondition()
    // Guarded by `condition`:
    /// Lines waiting for the writer thread, each followed by "\n", and how many.
    private var pending: [UInt8] = []
    private var pendingLines = 0
    /// Lines the writer thread has taken and is writing (one batch, possibly stuck in write(2)).
    private var writingLines = 0
    private var written = 0
    private var dropped = 0
    /// Drops not yet logged, and when drops were last logged.
    private var unreported = 0
    private var lastReport: DispatchTime?
    private var failure: Closed?
    private var closed = false
    private var finishing = false

    /// - Parameters:
    ///   - fileDescriptor: where lines go (standard output; tests pass a pipe).
    ///   - capacity: bytes that may wait for the writer thread before `backpressure` applies:
    ///     `.drop` drops the new line and counts it (live input, where the pipeline must keep
    ///     pace); `.wait` lets the reader pace the pipeline (files, where nothing is lost by
    ///     waiting), the one case in which `write` blocks.
    ///   - logger: where drops are reported, at most once per `dropReportInterval`.
    ///   - onClosed: called once, on the writer thread, when a write fails.
    public init(fileDescriptor: Int32 = STDOUT_FILENO, capacity: Int = 1 << 20, backpressure: Backpressure = .drop,
                logger: Logger? = nil, onClosed: @escaping @Sendable (Closed) -> Void = { _ in }) {
        precondition(capacity > 0, "capacity must be positive")
        _ = signal(SIGPIPE, SIG_IGN)
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        self.backpressure = backpressure
        self.logger = logger
        self.onClosed = onClosed
    }

    /// Starts the writer thread; lines written before are queued for it.
    public func start() {
        writer.start { [self] in drain() }
    }

    /// Lines dropped because `capacity` bytes were already waiting (`.drop` only), and those that
    /// `finish` gave up on.
    public var droppedLines: Int { condition.withLock { dropped } }
    /// True once a write has failed; later lines are discarded.
    public var isClosed: Bool { condition.withLock { closed } }
    /// The write that failed, if one did.
    public var writeError: Closed? { condition.withLock { failure } }

    public var losses: String { "\(droppedLines) dropped stdout lines" }
    public var recordsWritten: Int { condition.withLock { written } }

    public func write(line: String) {
        let size = line.utf8.count + 1
        let report: (new: Int, total: Int)? = condition.withLock {
            // A line larger than the whole capacity still goes out once the queue is empty.
            while !closed, !pending.isEmpty, pending.count + size > capacity {
                guard backpressure == .wait else { return drop() }
                condition.wait()
            }
            guard !closed, !finishing else { return nil }
            pending.append(contentsOf: line.utf8)
            pending.append(UInt8(ascii: "\n"))
            pendingLines += 1
            condition.broadcast()
            return nil
        }
        if let report {
            logger?.warning("standard output: \(report.new) line(s) dropped (\(report.total) in all): its reader is slower than the tagger")
        }
    }

    /// Counts a dropped line (`condition` held); the counts to log when a report is due.
    private func drop() -> (new: Int, total: Int)? {
        dropped += 1
        unreported += 1
        let now = DispatchTime.now()
        if let lastReport, Double(now.uptimeNanoseconds - lastReport.uptimeNanoseconds) / 1e9 < Self.dropReportInterval { return nil }
        lastReport = now
        defer { unreported = 0 }
        return (unreported, dropped)
    }

    /// Writes what is queued, then stops the writer thread; returns once it has stopped, or after
    /// `timeout` (a reader that stays connected but stopped reading would otherwise hold up the
    /// exit). Returns false when it gave up waiting: the lines still queued or being written are
    /// then counted as dropped and logged, since the process is about to exit without them.
    /// Lines written after this are discarded.
    @discardableResult
    public func finish(timeout: Duration? = nil) -> Bool {
        condition.withLock {
            finishing = true
            condition.broadcast()
        }
        let stopped = writer.join(timeout: timeout.map { Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18 })
        if !stopped { abandonUnwritten() }
        return stopped
    }

    /// Counts the lines `finish` gives up on as dropped and says so: an error where the reader was
    /// to pace the tagger (`.wait`: nothing was to be lost), a warning where drops are the policy.
    private func abandonUnwritten() {
        let (count, total): (Int, Int) = condition.withLock {
            let count = pendingLines + writingLines
            pending = []
            pendingLines = 0
            writingLines = 0  // the writer, should its write still end, counts none of them as written
            dropped += count
            return (count, dropped)
        }
        guard count > 0 else { return }
        logger?.log(level: backpressure == .wait ? .error : .warning,
                    "standard output: \(count) line(s) not written at exit: its reader stopped reading (\(total) dropped in all)")
    }

    /// The writer thread: takes everything queued, writes it in one go, repeats.
    private func drain() {
        while true {
            condition.lock()
            while pending.isEmpty, !finishing { condition.wait() }
            guard !pending.isEmpty else {
                condition.unlock()
                return
            }
            var batch: [UInt8] = []
            swap(&batch, &pending)
            writingLines = pendingLines
            pendingLines = 0
            condition.broadcast()  // writers waiting for room
            condition.unlock()

            if let error = writeAll(batch) {
                condition.withLock {
                    failure = error
                    closed = true
                    pending = []
                    pendingLines = 0
                    condition.broadcast()
                }
                onClosed(error)
                return
            }
            condition.withLock {
                written += writingLines  // none if `finish` gave up on them (counted as dropped)
                writingLines = 0
            }
        }
    }

    /// Writes all of `bytes`; the error if the descriptor fails.
    private func writeAll(_ bytes: [UInt8]) -> Closed? {
        bytes.withUnsafeBytes { Tagger.writeAll(fileDescriptor, $0) }.map { Closed(errno: $0) }
    }
}
