import Foundation
import Logging
import MAST

/// The daemon's MQTT output across reloads: forwards records to the running `MQTTPublisher`, if
/// any, and applies a new configuration in two steps, so that a reload changes nothing until
/// all of it is built (`prepare` may throw; `commit` cannot).
///
/// A reload that keeps the `mqtt:` section and the node keeps the connection (only the discovery
/// messages follow new labels); any other change replaces the publisher: the old one disconnects
/// before the new one connects, because both use the node's client id.
public final class MQTTOutput: RecordListener, @unchecked Sendable {
    /// A configuration's MQTT side, built and not yet running.
    public enum Change {
        case keep(HomeAssistantDiscovery?)
        case replace(MQTTPublisher?)
    }

    private let logger: Logger
    private let lock = NSLock()
    // Guarded by `lock`:
    private var running: (publisher: MQTTPublisher, origin: RecordOrigin)?
    /// Drops and published records of publishers already replaced or stopped, so the counts
    /// span reloads; nil while MQTT was never on.
    private var retired: (drops: Int, published: Int)?

    public init(logger: Logger) { self.logger = logger }

    public var publisher: MQTTPublisher? { lock.withLock { running?.publisher } }

    public func receive(_ record: Record, jsonLine: String?) {
        publisher?.receive(record, jsonLine: jsonLine)
    }

    /// What `config` with `model` asks for; throws (a `ConfigError`) when it can't be built.
    public func prepare(config: TaggerConfig, model: Model) throws -> Change {
        let settings = config.mqtt, origin = config.origin
        guard settings.isEnabled else { return .replace(nil) }
        let discovery = try Self.discovery(config: config, model: model, origin: origin)
        if let running = lock.withLock({ running }), running.publisher.settings == settings, running.origin == origin {
            return .keep(discovery)
        }
        return .replace(try MQTTPublisher(settings: settings, origin: origin, discovery: discovery, logger: logger))
    }

    public func commit(_ change: Change) {
        switch change {
        case .keep(let discovery):
            publisher?.update(discovery: discovery)
        case .replace(let next):
            let old = lock.withLock {
                defer { running = next.map { ($0, $0.origin) } }
                if next != nil, retired == nil { retired = (0, 0) }
                return running?.publisher
            }
            if let old {
                if !old.stop() { logger.warning("MQTT: the previous connection did not close in time; left to finish") }
                lock.withLock {
                    retired!.drops += old.droppedMessages
                    retired!.published += old.publishedRecords
                }
            }
            next?.start()
        }
    }

    /// Publishes `offline` and disconnects (shutdown).
    public func stop() {
        commit(.replace(nil))
    }

    /// Messages dropped so far, over every publisher; nil while MQTT was never on.
    public var droppedMessages: Int? {
        lock.withLock { retired.map { $0.drops + (running?.publisher.droppedMessages ?? 0) } }
    }

    /// `records` messages published so far, over every publisher; nil while MQTT was never on.
    public var publishedRecords: Int? {
        lock.withLock { retired.map { $0.published + (running?.publisher.publishedRecords ?? 0) } }
    }

    /// "N dropped MQTT messages" once MQTT has been on; nil before.
    public var losses: String? { droppedMessages.map { "\($0) dropped MQTT messages" } }

    /// The discovery messages for the labels `config` makes the model report (nil with discovery off).
    static func discovery(config: TaggerConfig, model: Model, origin: RecordOrigin) throws -> HomeAssistantDiscovery? {
        guard config.mqtt.discovery else { return nil }
        let decoder = try EventDecoder(config: config.events, classes: model.classes.map { ($0.name, $0.id) },
                                       sampleRate: model.fbank.sampleRate, hopSamples: 1)
        let events = config.events
        let sensors = decoder.outputs.filter {
            events.groups[$0.label] != nil || events.include.contains($0.label) || events.include.contains($0.id)
        }
        return HomeAssistantDiscovery(prefix: config.mqtt.discoveryPrefix, node: origin.node,
                                      topics: MQTTTopics(prefix: config.mqtt.topicPrefix, node: origin.node),
                                      labels: decoder.outputs.map(\.label), sensorLabels: sensors.map(\.label),
                                      model: model.config.name)
    }
}
