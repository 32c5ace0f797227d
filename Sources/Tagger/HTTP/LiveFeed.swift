import Foundation

/// The live pages' Server-Sent Events: one ticker (`run`) turns the `LiveView`'s changes into
/// one message every `live_seconds` and offers it to every connected page. With no page
/// connected the ticker sleeps until one connects, and the view keeps no frames, so a daemon
/// that nobody watches does not work for nothing.
///
/// Each page has a buffer of `live_buffer` messages (an `AsyncStream` keeping the newest); a
/// page that reads too slowly loses its oldest messages, counted in
/// `mast_tagger_http_live_dropped_total`. Offering never waits, so no page, however stuck, can
/// hold up the ticker, let alone the pipeline (which only ever writes to the `LiveView`).
public final class LiveFeed: @unchecked Sendable {
    private let view: LiveView
    private let metrics: DaemonMetrics
    private let lock = NSLock()
    // Guarded by `lock`:
    private var clients: [Int: Client] = [:]
    private var nextID = 0
    private var cursor = LiveView.Cursor()
    private var closed = false
    /// Wakes the sleeping ticker when a page connects (keeps one wake-up, the newest).
    private let arrivals: AsyncStream<Void>
    private let arrival: AsyncStream<Void>.Continuation

    public init(view: LiveView, metrics: DaemonMetrics) {
        self.view = view
        self.metrics = metrics
        (arrivals, arrival) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public enum Refusal: Error { case full, closed }

    private struct Client {
        let continuation: AsyncStream<String>.Continuation
        /// Closes the page's connection: at shutdown a page that does not read would otherwise
        /// hold its response's last write, and the server's graceful stop, forever.
        let hangUp: @Sendable () -> Void
    }

    /// A new page's stream of SSE messages: first a `hello` with everything the view holds (the
    /// kept events; the frames since the first of the connected pages came, none for that
    /// first), then the ticker's updates. Throws when `limit` pages are
    /// connected already, or the feed has closed (shutdown).
    public func connect(limit: Int, buffer: Int, hangUp: @escaping @Sendable () -> Void) throws -> AsyncStream<String> {
        try lock.withLock {
            guard !closed else { throw Refusal.closed }
            guard clients.count < limit else { throw Refusal.full }
            let first = clients.isEmpty
            if first { view.setWatching(true) }  // frames from now on (the first page's hello has none)
            var start = view.cursor(framesBack: LiveView.frameCapacity, everyEvent: true)
            let hello = message(event: "hello", view.update(since: &start))
            let id = nextID
            nextID += 1
            let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
            continuation.onTermination = { [weak self] _ in self?.disconnect(id) }
            continuation.yield(hello)
            if first {
                cursor = start  // the ticker slept: its updates go on from the first page's hello
                arrival.yield()
            }
            clients[id] = Client(continuation: continuation, hangUp: hangUp)
            metrics.liveClients.set(Double(clients.count))
            return stream
        }
    }

    private func disconnect(_ id: Int) {
        lock.withLock {
            clients[id] = nil
            if clients.isEmpty { view.setWatching(false) }
            metrics.liveClients.set(Double(clients.count))
        }
    }

    public var clientCount: Int { lock.withLock { clients.count } }

    /// Offers the next update to every page, every `interval()` seconds while any is connected,
    /// until cancelled or closed.
    public func run(interval: @escaping @Sendable () -> Double) async {
        var arrivals = self.arrivals.makeAsyncIterator()
        while !Task.isCancelled {
            if clientCount == 0 {
                // nil: cancelled, or closed at shutdown.
                guard await arrivals.next() != nil else { return }
                continue
            }
            try? await Task.sleep(for: .milliseconds(Int(interval() * 1000)))
            tick()
        }
    }

    /// One update to every page.
    func tick() {
        lock.withLock {
            guard !clients.isEmpty else { return }
            var cursor = self.cursor
            let update = view.update(since: &cursor)
            self.cursor = cursor
            let text = message(event: "update", update)
            for client in clients.values {
                if case .dropped = client.continuation.yield(text) { metrics.liveUpdateDropped() }
            }
        }
    }

    /// Ends every page's stream (shutdown): their responses finish, and no page connects after.
    public func close() {
        arrival.finish()
        let ending = lock.withLock {
            closed = true
            view.setWatching(false)
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in ending {
            client.continuation.finish()
            client.hangUp()
        }
        metrics.liveClients.set(0.0)
    }

    private func message(event: String, _ update: LiveView.Update) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let json = (try? encoder.encode(update)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "event: \(event)\ndata: \(json)\n\n"
    }
}
