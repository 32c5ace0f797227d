/// Where record lines go: standard output (`StdoutSink`) or the clients of a Unix socket
/// (`UnixSocketServer`).
///
/// `write(line:)` is called on the pipeline thread, once per record, in record order. It must never
/// block that thread on a reader: a sink queues the line and delivers it from a thread or event
/// loop of its own, and deals with slow readers there.
public protocol RecordSink: Sendable {
    /// Queues one record line (without its trailing newline; the sink adds it).
    func write(line: String)
    /// What the sink has lost so far, for STATUS= and the end-of-run summary (e.g. "3 dropped
    /// stdout lines"): every drop is counted, none passes silently.
    var losses: String { get }
    /// Record lines delivered so far: written to standard output, or to a socket client (a
    /// line sent to three clients counts three times). With `losses`, what `/metrics` reports
    /// per output.
    var recordsWritten: Int { get }
}
