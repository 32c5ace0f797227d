import AudioInput
import Foundation
import Logging
import NIOCore

/// Publishes one tagger's records, label states, input level and status to an MQTT broker, and
/// registers it with Home Assistant, from a thread of its own:
///
///     pipeline thread ─ receive(record) ─► bounded queue ─┐
///     daemon ─ publish(level:) ──────────► bounded queue ─┼─► publisher thread ─► libmosquitto ─► broker
///     states (one per label, latest wins) ────────────────┘     (connect, back-off, loop)
///
/// Nothing here blocks the caller: a broker that is down, slow or refuses us only fills the
/// queue, whose oldest messages are then dropped and counted. Messages handed to libmosquitto
/// but not confirmed when a connection breaks go back to the head of the queue (at least once).
/// On every (re)connection the status, the discovery messages and every label's state are
/// published again. The last will is `offline` on the status topic; `stop` publishes it
/// itself before a clean disconnect.
public final class MQTTPublisher: RecordListener, @unchecked Sendable {
    struct Message {
        let topic: String
        let payload: [UInt8]
        let qos: Int
        let retain: Bool
    }

    /// Messages handed to libmosquitto and not yet confirmed, at most: beyond this they wait in
    /// the (bounded) queue, so libmosquitto's own queue never grows without bound.
    static let maximumInFlight = 100
    /// Least time between two log lines about dropped messages or failed connection attempts.
    static let reportInterval = 10.0
    /// Time `stop` gives the queue, `offline` and the disconnect.
    public static let stopSeconds = 1.5

    public let settings: TaggerConfig.MQTT
    public let topics: MQTTTopics
    public let origin: RecordOrigin
    private let endpoint: MQTTEndpoint
    private let clientID: String
    private let password: String?
    private let encoder: RecordEncoder
    private let logger: Logger
    private let thread = WorkerThread(name: "mast-mqtt")
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: CircularBuffer<Message>
    /// Every label that has had an onset: its state, and whether that state is still to be published.
    private var states: [String: (on: Bool, unpublished: Bool)] = [:]
    private var discovery: HomeAssistantDiscovery?
    private var discoveryUnpublished = false
    /// Discovery topics published before that the current discovery no longer has (emptied, which removes them).
    private var retiredDiscoveryTopics: Set<String> = []
    private var dropped = 0
    /// `records` messages the broker confirmed (QoS 1, 2) or libmosquitto sent (QoS 0).
    private var recordsPublished = 0
    private var unreportedDrops = 0
    private var lastDropReport: Date?
    private var connected = false
    private var stopping = false
    private var connections = 0

    /// - Parameters:
    ///   - settings: a validated `mqtt:` section with MQTT on.
    ///   - origin: the node and source records carry.
    ///   - discovery: the Home Assistant messages (nil when `discovery` is off).
    public init(settings: TaggerConfig.MQTT, origin: RecordOrigin, discovery: HomeAssistantDiscovery?, logger: Logger) throws {
        precondition(settings.isEnabled, "MQTT is off")
        self.settings = settings
        endpoint = try settings.endpoint()
        password = try settings.password()
        topics = MQTTTopics(prefix: settings.topicPrefix, node: origin.node)
        self.origin = origin
        clientID = "mast-tagger-\(origin.node)"
        encoder = RecordEncoder(format: .jsonl, origin: origin)
        self.discovery = discovery
        self.logger = logger
        queue = CircularBuffer(initialCapacity: min(settings.queue, 1024))
    }

    /// Starts the publisher thread, which connects and keeps connecting.
    public func start() {
        thread.start { [self] in run() }
    }

    // MARK: - Called from other threads (never blocking)

    /// A record from the pipeline: the `records` message, and for onsets and events the label's
    /// state and the Home Assistant event.
    public func receive(_ record: Record, jsonLine: String?) {
        // The sink's line when it is JSON with the same origin (the pipeline's encoder uses the
        // configuration's origin, as this publisher does); else this publisher's own.
        let line = Array((jsonLine ?? encoder.line(record)).utf8)
        condition.withLock {
            enqueue(Message(topic: topics.records, payload: line, qos: settings.qos, retain: false))
            switch record {
            case .onset(let onset):
                states[onset.label] = (true, true)
                let event = ["event_type": onset.label, "score": Self.rounded(Double(onset.score), 4), "start": onset.start] as [String: Any]
                enqueue(Message(topic: topics.event, payload: Self.json(event), qos: settings.qos, retain: false))
            case .event(let event):
                states[event.label] = (false, true)
            case .tags, .summary:
                break
            }
            condition.broadcast()
        }
    }

    /// The input's level over the last `level_seconds`.
    public func publish(level: AudioLevel) {
        let payload = Self.json(["rms_dbfs": Self.rounded(level.rmsDecibels, 2), "peak_dbfs": Self.rounded(level.peakDecibels, 2),
                                 "seconds": Self.rounded(level.seconds, 3)])
        condition.withLock {
            enqueue(Message(topic: topics.level, payload: payload, qos: 0, retain: false))
            condition.broadcast()
        }
    }

    /// New discovery messages (the labels changed on reload): published now, and the entities
    /// the old ones had and the new ones lack are removed.
    public func update(discovery next: HomeAssistantDiscovery?) {
        condition.withLock {
            guard next != discovery else { return }
            let old = Set(discovery.map { Array($0.messages.keys) } ?? []), new = Set(next.map { Array($0.messages.keys) } ?? [])
            retiredDiscoveryTopics.formUnion(old.subtracting(new))
            retiredDiscoveryTopics.subtract(new)
            discovery = next
            discoveryUnpublished = true
            condition.broadcast()
        }
    }

    /// Messages dropped because the queue was full (the broker away or slower than the tagger).
    public var droppedMessages: Int { condition.withLock { dropped } }
    /// `records` messages published (confirmed by the broker at QoS 1 and 2).
    public var publishedRecords: Int { condition.withLock { recordsPublished } }
    public var isConnected: Bool { condition.withLock { connected } }
    /// Successful connections so far (1 after the first; more after reconnections).
    public var connectionCount: Int { condition.withLock { connections } }

    /// Publishes `offline`, disconnects cleanly and ends the thread; returns false when that took
    /// longer than `timeout` (a broker that stopped answering mid-connect), leaving the thread to
    /// end by itself.
    @discardableResult
    public func stop(timeout: Double = stopSeconds + 1) -> Bool {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        return thread.join(timeout: timeout)
    }

    /// A message libmosquitto reported as published (nil: one not in flight, such as `offline`).
    private func confirmed(_ message: Message?) {
        guard message?.topic == topics.records else { return }
        condition.withLock { recordsPublished += 1 }
    }

    /// Adds a message, dropping the oldest when the queue is full (`condition` held).
    private func enqueue(_ message: Message) {
        if queue.count >= settings.queue {
            queue.removeFirst()
            countDrop()
        }
        queue.append(message)
    }

    /// Counts `count` dropped messages and logs them, at most once per `reportInterval` unless
    /// `final` (the publisher is stopping: there is no later line to fold them into).
    private func countDrop(_ count: Int = 1, final: Bool = false) {
        dropped += count
        unreportedDrops += count
        guard unreportedDrops > 0 else { return }
        let now = Date()
        if !final, let lastDropReport, now.timeIntervalSince(lastDropReport) < Self.reportInterval { return }
        lastDropReport = now
        logger.warning("MQTT: \(unreportedDrops) message(s) dropped (\(dropped) in all): the broker at \(endpoint) is away or slower than the tagger")
        unreportedDrops = 0
    }

    // MARK: - The publisher thread

    private func run() {
        var backoff = settings.retryInitialSeconds
        var nextAttempt = Date()
        var lastFailureReport: Date?
        while true {
            let go: Bool = condition.withLock {
                while !stopping, Date() < nextAttempt { _ = condition.wait(until: nextAttempt) }
                return !stopping
            }
            guard go else { break }
            let connectionsBefore = connectionCount
            do {
                let connection = try connect()
                try serve(connection)
                break  // stopped
            } catch {
                let now = Date()
                if connectionCount > connectionsBefore {  // it was up: a new failure, told at once
                    backoff = settings.retryInitialSeconds
                    lastFailureReport = nil
                }
                // The first failure after a working connection, then at most one line per interval.
                if lastFailureReport.map({ now.timeIntervalSince($0) >= Self.reportInterval }) ?? true {
                    logger.error("MQTT: \(error); retrying in \(String(format: "%.1f", backoff)) s")
                    lastFailureReport = now
                }
                nextAttempt = now + backoff
                backoff = min(backoff * 2, settings.retryMaxSeconds)
            }
        }
        condition.withLock {
            connected = false
            // Stopped: what could not go out before the deadline, or waited for a broker that was
            // away, never will.
            countDrop(queue.count, final: true)
            queue.removeAll()
        }
    }

    /// A new client, connected (CONNECT sent; the broker's CONNACK arrives in `serve`).
    private func connect() throws -> MQTTConnection {
        let connection = try MQTTConnection(clientID: clientID, settings: settings, password: password,
                                            will: (topics.status, "offline"))
        try connection.connect(to: endpoint, keepalive: settings.keepalive)
        return connection
    }

    struct ConnectionFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs one connection until it fails (throws; its unconfirmed messages are queued again)
    /// or `stop` (returns, after the queue, `offline` and a clean disconnect).
    private func serve(_ connection: MQTTConnection) throws {
        var inFlight: [Int32: Message] = [:]
        var session = false
        func requeueInFlight() {
            condition.withLock {
                // Oldest first (ids increase), in front of what waited behind them.
                for (_, message) in inFlight.sorted(by: { $0.key > $1.key }) {
                    if queue.count >= settings.queue { countDrop(); continue }
                    queue.prepend(message)
                }
                connected = false
            }
        }
        do {
            while true {
                // The events first: a refused CONNECT fails the loop too, and its reason is in the event.
                var failure: Error?
                do { try connection.loop(milliseconds: 50) } catch { failure = error }
                for event in connection.takeEvents() {
                    switch event {
                    case .connected:
                        session = true
                        try connection.subscribe(topic: HomeAssistantDiscovery.statusTopic(prefix: settings.discoveryPrefix))
                        let count = condition.withLock {
                            connected = true
                            connections += 1
                            discoveryUnpublished = true
                            for label in states.keys { states[label]!.unpublished = true }
                            return connections
                        }
                        logger.notice("MQTT: connected to \(endpoint) as \(clientID)\(count > 1 ? " (again)" : "")")
                        _ = try connection.publish(topic: topics.status, payload: Array("online".utf8), qos: 1, retain: true)
                    case .refused(let reason):
                        throw ConnectionFailure(description: "the broker at \(endpoint) refused the connection: \(reason)")
                    case .lost(let reason):
                        throw ConnectionFailure(description: "connection to \(endpoint) lost: \(reason)")
                    case .published(let id):
                        confirmed(inFlight.removeValue(forKey: id))
                    case .message(let topic, let payload):
                        if topic == HomeAssistantDiscovery.statusTopic(prefix: settings.discoveryPrefix), payload == "online" {
                            condition.withLock { discoveryUnpublished = true }
                        }
                    }
                }
                if let failure { throw ConnectionFailure(description: "connection to \(endpoint) failed: \(failure)") }
                if condition.withLock({ stopping }) {
                    if session { try? finishCleanly(connection, inFlight: &inFlight) }
                    requeueInFlight()  // `run` counts what could not go out before the deadline
                    return
                }
                guard session else { continue }
                for message in takeDue(room: Self.maximumInFlight - inFlight.count) {
                    inFlight[try connection.publish(topic: message.topic, payload: message.payload, qos: message.qos,
                                                    retain: message.retain)] = message
                }
            }
        } catch {
            requeueInFlight()
            throw error
        }
    }

    /// What is due now, at most `room` messages: discovery (and removals), then states, then the queue.
    private func takeDue(room: Int) -> [Message] {
        guard room > 0 else { return [] }
        return condition.withLock {
            var due: [Message] = []
            if discoveryUnpublished {
                discoveryUnpublished = false
                due += retiredDiscoveryTopics.sorted().map { Message(topic: $0, payload: [], qos: 1, retain: true) }
                retiredDiscoveryTopics = []
                if settings.discovery, let discovery {
                    due += discovery.messages.sorted { $0.key < $1.key }
                        .map { Message(topic: $0.key, payload: Array($0.value.utf8), qos: 1, retain: true) }
                }
            }
            for (label, state) in states where state.unpublished {
                states[label]!.unpublished = false
                due.append(Message(topic: topics.state(label), payload: Array((state.on ? "ON" : "OFF").utf8), qos: 1,
                                   retain: settings.retainState))
            }
            while due.count < room, let message = queue.popFirst() { due.append(message) }
            return due
        }
    }

    /// What is still queued and unconfirmed, then `offline` (retained), then DISCONNECT: within
    /// `stopSeconds` in all; what did not make it stays queued (the caller counts it).
    private func finishCleanly(_ connection: MQTTConnection, inFlight: inout [Int32: Message]) throws {
        let deadline = Date() + Self.stopSeconds
        var offline: Int32?
        while Date() < deadline {
            for message in takeDue(room: Self.maximumInFlight - inFlight.count) {
                inFlight[try connection.publish(topic: message.topic, payload: message.payload, qos: message.qos,
                                                retain: message.retain)] = message
            }
            if offline == nil, inFlight.isEmpty, condition.withLock({ queue.isEmpty }) {
                offline = try connection.publish(topic: topics.status, payload: Array("offline".utf8), qos: 1, retain: true)
            }
            try connection.loop(milliseconds: 20)
            for case .published(let id) in connection.takeEvents() {
                confirmed(inFlight.removeValue(forKey: id))
                if id == offline {
                    connection.disconnect()
                    return
                }
            }
        }
        connection.disconnect()
    }

    private static func rounded(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}
