import Foundation
import XCTest

/// docs/mosquitto-bridge.conf as shipped, between a box's broker and a central one: a tagger
/// publishing to the box's broker reaches the centre, discovery included.
final class FleetTests: XCTestCase {
    func testTheDocumentedBridgeCarriesATaggersTopicsToTheCentre() throws {
        let directory = try Daemon.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let centralDirectory = directory.appendingPathComponent("central"), boxDirectory = directory.appendingPathComponent("box")
        for d in [centralDirectory, boxDirectory] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let central = try Broker(directory: centralDirectory)
        let shipped = try String(contentsOf: Daemon.repository.appendingPathComponent("docs/mosquitto-bridge.conf"), encoding: .utf8)
        XCTAssertTrue(shipped.contains("address central.example.net:1883"))
        let bridge = shipped.replacingOccurrences(of: "central.example.net:1883", with: "127.0.0.1:\(central.port)")
            .replacingOccurrences(of: "BOX", with: "box8")
        let box = try Broker(directory: boxDirectory, extraConfig: bridge)
        let atCentre = try central.subscribe("mast-tagger/#")
        XCTAssertTrue(atCentre.wait(for: 10) { atCentre.payloads(on: "mast-tagger/_bridges/box8").last == "1" }, atCentre.output)

        let wav = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(wav, seconds: 4, toneStart: 1, toneEnd: 3)
        let config = directory.appendingPathComponent("config.yaml")
        try "input: {realtime: false}\nmqtt: {url: \"\(box.url)\", node: box8}\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "wav:\(wav.path)"])
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        XCTAssertTrue(atCentre.wait(for: 10) { atCentre.payloads(on: "mast-tagger/box8/status").last == "offline" }, atCentre.output)
        XCTAssertEqual(atCentre.payloads(on: "mast-tagger/box8/records"), daemon.lines)
        XCTAssertFalse(daemon.lines.isEmpty)
        XCTAssertTrue(try central.retained("homeassistant/#").contains { $0.topic == "homeassistant/event/box8/sound/config" })
    }
}
