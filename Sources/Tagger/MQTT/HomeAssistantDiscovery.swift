import Foundation

/// Home Assistant MQTT discovery messages for one node (shapes as Home Assistant's documentation
/// gives them, read in November 2026: https://www.home-assistant.io/integrations/mqtt/ (discovery),
/// event.mqtt (Home Assistant 2023.8+), binary_sensor.mqtt, sensor.mqtt):
///
/// - one device per node, which every entity names;
/// - an `event` entity whose `event_types` are the labels the tagger reports (fed by `event`);
/// - a `binary_sensor` (device class `sound`) per label listed in `events.include` or `events.groups`;
/// - a `sensor` for the input's RMS level (`sound_pressure`, dB);
/// - a `connectivity` binary sensor on the status topic.
///
/// All but the connectivity sensor use the status topic for availability, so a node that went
/// offline shows as unavailable rather than as silent.
public struct HomeAssistantDiscovery: Equatable, Sendable {
    /// Discovery topic → retained payload (JSON).
    public let messages: [String: String]

    /// - Parameters:
    ///   - labels: every label the event decoder can report.
    ///   - sensorLabels: the labels that get a binary sensor of their own.
    ///   - model: the model's name, shown as the device's model.
    public init(prefix: String, node: String, topics: MQTTTopics, labels: [String], sensorLabels: [String], model: String) {
        let nodeID = MQTTTopics.slug(node)
        let device: [String: Any] = ["identifiers": ["mast_tagger_\(nodeID)"], "name": "mast-tagger \(node)",
                                     "manufacturer": "mast-tagger", "model": model]
        let availability: [String: Any] = ["availability_topic": topics.status]
        func config(_ component: String, _ object: String, _ fields: [String: Any]) -> (String, String) {
            let payload = fields.merging(["unique_id": "mast_tagger_\(nodeID)_\(object)", "device": device,
                                          "object_id": "mast_tagger_\(nodeID)_\(object)"]) { own, _ in own }
            let data = try! JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])
            return ("\(prefix)/\(component)/\(nodeID)/\(object)/config", String(decoding: data, as: UTF8.self))
        }
        var messages = [
            config("event", "sound", availability.merging(["name": "Sound", "state_topic": topics.event, "event_types": labels,
                                                           "icon": "mdi:ear-hearing"]) { a, _ in a }),
            config("sensor", "level", availability.merging([
                "name": "Sound level", "state_topic": topics.level, "value_template": "{{ value_json.rms_dbfs }}",
                "unit_of_measurement": "dB", "device_class": "sound_pressure", "state_class": "measurement"]) { a, _ in a }),
            config("binary_sensor", "status", ["name": "Connected", "state_topic": topics.status, "payload_on": "online",
                                               "payload_off": "offline", "device_class": "connectivity",
                                               "entity_category": "diagnostic"]),
        ]
        for label in sensorLabels {
            messages.append(config("binary_sensor", MQTTTopics.slug(label), availability.merging([
                "name": label, "state_topic": topics.state(label), "payload_on": "ON", "payload_off": "OFF",
                "device_class": "sound"]) { a, _ in a }))
        }
        self.messages = Dictionary(messages) { first, _ in first }
    }

    /// Home Assistant publishes `online` here when it starts: the discovery messages go out again.
    public static func statusTopic(prefix: String) -> String { "\(prefix)/status" }
}
