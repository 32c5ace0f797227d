import Foundation
@testable import Tagger
import XCTest

/// The pieces of the MQTT output that need no broker: URLs, topic names, levels, record origin,
/// discovery payloads (MQTTTests in CommandLineTests runs them against a real broker).
final class MQTTSettingsTests: XCTestCase {
    func testURLsGiveHostPortAndTLS() throws {
        XCTAssertEqual(try MQTTEndpoint(parsing: "mqtt://broker").description, "mqtt://broker:1883")
        XCTAssertEqual(try MQTTEndpoint(parsing: "mqtts://broker.lan/").description, "mqtts://broker.lan:8883")
        XCTAssertEqual(try MQTTEndpoint(parsing: "mqtt://10.0.0.2:1884").port, 1884)
        let v6 = try MQTTEndpoint(parsing: "mqtt://[::1]:1999")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.description, "mqtt://[::1]:1999")
        for bad in ["broker:1883", "http://broker", "mqtt://", "mqtt://:1883", "mqtt://b:0", "mqtt://b:65536", "mqtt://b:x",
                    "mqtt://user:pw@b", "mqtt://b/topic", "mqtt://[::1", "mqtt://a b"] {
            XCTAssertThrowsError(try MQTTEndpoint(parsing: bad), bad) { error in
                XCTAssertEqual((error as? ConfigError)?.key, "mqtt.url", bad)
            }
        }
    }

    func testSettingsAreCheckedOnlyWhenMQTTIsOn() throws {
        var settings = TaggerConfig.MQTT()
        settings.node = "a/b"
        XCTAssertNoThrow(try settings.validate())  // off: a half-written section waits
        settings.url = "mqtt://broker"
        XCTAssertThrowsError(try settings.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "mqtt.node") }
        settings.node = "box"
        settings.topicPrefix = "/home"
        XCTAssertThrowsError(try settings.validate()) { XCTAssertEqual(($0 as? ConfigError)?.key, "mqtt.topic_prefix") }
        settings.topicPrefix = "home/audio"
        XCTAssertNoThrow(try settings.validate())
        settings.caFile = "/etc/hostname"
        XCTAssertThrowsError(try settings.validate()) { XCTAssertTrue("\($0)".contains("not mqtts://"), "\($0)") }
        settings.caFile = ""
        settings.passwordFile = "/etc/hostname"
        XCTAssertThrowsError(try settings.validate()) { XCTAssertTrue("\($0)".contains("needs mqtt.username"), "\($0)") }
    }

    func testThePasswordIsTheFilesFirstLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mast-pw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "s3cret\r\nsecond line\n".write(toFile: path, atomically: true, encoding: .utf8)
        var settings = TaggerConfig.MQTT()
        settings.passwordFile = path
        XCTAssertEqual(try settings.password(), "s3cret")
    }

    func testTheNodeDefaultsToTheHostNameAndTheTaggersName() {
        var settings = TaggerConfig.MQTT()
        let host = settings.resolvedNode(name: "")
        XCTAssertFalse(host.isEmpty || host.contains(".") || host.contains("/"), host)
        XCTAssertEqual(settings.resolvedNode(name: "garden"), "\(host)-garden")
        settings.node = "attic"
        XCTAssertEqual(settings.resolvedNode(name: "garden"), "attic")
    }

    func testLabelsBecomeTopicLevelsAndObjectIDs() {
        XCTAssertEqual(MQTTTopics.slug("Beep, bleep"), "beep_bleep")
        XCTAssertEqual(MQTTTopics.slug("Whimper (dog)"), "whimper_dog")
        XCTAssertEqual(MQTTTopics.slug("a/b+c#"), "a_b_c")
        XCTAssertEqual(MQTTTopics.slug("+++"), "_")
        XCTAssertEqual(MQTTTopics(prefix: "mast-tagger", node: "box").state("Dog"), "mast-tagger/box/state/dog")
    }

    func testLevelsAreInDecibelsOfFullScaleWithAFloorForSilence() {
        let meter = LevelMeter(sampleRate: 16000)
        XCTAssertNil(meter.take())
        let sine = (0 ..< 16000).map { Float(sin(2 * Double.pi * 1000 * Double($0) / 16000)) }
        sine.withUnsafeBufferPointer { meter.add($0) }
        let level = try! XCTUnwrap(meter.take())
        XCTAssertEqual(level.rmsDecibels, -3.01, accuracy: 0.01)  // a full-scale sine
        XCTAssertEqual(level.peakDecibels, 0, accuracy: 0.01)
        XCTAssertEqual(level.seconds, 1)
        [Float](repeating: 0, count: 160).withUnsafeBufferPointer { meter.add($0) }
        XCTAssertEqual(meter.take()?.rmsDecibels, AudioLevel.floorDecibels)  // and the meter started afresh
    }

    func testJSONRecordsCarryTheirOriginTextLinesDoNot() throws {
        let onset = Record.onset(.init(label: "Dog", id: "/m/0bt9lr", start: 1, time: Date(timeIntervalSince1970: 0), score: 0.5))
        let origin = RecordOrigin(node: "box", source: "garden")
        let line = RecordEncoder(format: .jsonl, origin: origin).line(onset)
        XCTAssertEqual(line, #"{"id":"/m/0bt9lr","label":"Dog","node":"box","score":0.5,"source":"garden","start":1,"time":"1970-01-01T00:00:00.000Z","type":"onset"}"#)
        XCTAssertFalse(RecordEncoder(format: .text, origin: origin).line(onset).contains("box"))
        XCTAssertFalse(RecordEncoder(format: .jsonl).line(onset).contains("node"))
    }

    func testDiscoveryPayloadsNameOneDeviceAndUniqueEntities() throws {
        let topics = MQTTTopics(prefix: "mast-tagger", node: "box.lan")
        let discovery = HomeAssistantDiscovery(prefix: "homeassistant", node: "box.lan", topics: topics,
                                               labels: ["Dog", "Beep, bleep"], sensorLabels: ["Dog"], model: "mast-t")
        XCTAssertEqual(Set(discovery.messages.keys), [
            "homeassistant/event/box_lan/sound/config", "homeassistant/sensor/box_lan/level/config",
            "homeassistant/binary_sensor/box_lan/status/config", "homeassistant/binary_sensor/box_lan/dog/config",
        ])
        let dog = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(discovery.messages["homeassistant/binary_sensor/box_lan/dog/config"]!.utf8)) as? [String: Any])
        XCTAssertEqual(dog["state_topic"] as? String, "mast-tagger/box.lan/state/dog")
        XCTAssertEqual(dog["payload_on"] as? String, "ON")
        XCTAssertEqual(dog["availability_topic"] as? String, "mast-tagger/box.lan/status")
        XCTAssertEqual(dog["unique_id"] as? String, "mast_tagger_box_lan_dog")
    }
}
