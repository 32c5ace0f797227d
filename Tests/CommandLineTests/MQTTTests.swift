import Foundation
import XCTest

/// `mast-tagger run` publishing to a real broker (mosquitto on a free loopback port): the topics
/// and payloads README documents, a broker that goes away and comes back, a daemon killed
/// outright, TLS, a wrong password, and bad `mqtt:` settings.
final class MQTTTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func toneFile(seconds: Double, toneStart: Double, toneEnd: Double) throws -> String {
        let url = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(url, seconds: seconds, toneStart: toneStart, toneEnd: toneEnd)
        return url.path
    }

    /// A broker, and a daemon tagging a long tone at real time that publishes to it as `node`
    /// (`mqtt` adds keys to the section).
    func publishingDaemon(node: String, mqtt: String = "") throws -> (Broker, Daemon) {
        let broker = try Broker(directory: directory)
        let wav = try toneFile(seconds: 60, toneStart: 0, toneEnd: 60)
        let config = try file("config.yaml", "mqtt: {url: \"\(broker.url)\", node: \(node)\(mqtt)}\n")
        return (broker, try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)"]))
    }

    static func json(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    func testRecordsStatesStatusLevelAndDiscoveryArriveAsDocumented() throws {
        let broker = try Broker(directory: directory)
        let subscriber = try broker.subscribe()
        let wav = try toneFile(seconds: 6, toneStart: 1, toneEnd: 4)
        let config = try file("config.yaml", """
            input: {realtime: false}
            events: {include: [Tone 1 kHz, beeps], groups: {beeps: [Tone 3 kHz]}}
            mqtt: {url: "\(broker.url)", node: box1, level_seconds: 0.5}
            name: kitchen
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        let base = "mast-tagger/box1"
        XCTAssertTrue(subscriber.wait(for: 5) { subscriber.payloads(on: "\(base)/status").last == "offline" }, subscriber.output)

        // records: the same JSON lines as stdout, each with node and source
        XCTAssertEqual(subscriber.payloads(on: "\(base)/records"), daemon.lines)
        let records = daemon.records()
        XCTAssertEqual(records.compactMap { $0["type"] as? String }, ["onset", "event"], daemon.stdout)
        XCTAssertTrue(records.allSatisfy { $0["node"] as? String == "box1" && $0["source"] as? String == "kitchen" })
        // states: ON at the onset, OFF at the end; the event entity's message at the onset
        XCTAssertEqual(subscriber.payloads(on: "\(base)/state/tone_1_khz"), ["ON", "OFF"])
        let event = try XCTUnwrap(subscriber.payloads(on: "\(base)/event").first.flatMap(Self.json))
        XCTAssertEqual(event["event_type"] as? String, "Tone 1 kHz")
        // status: online first, offline at the end (also retained)
        XCTAssertEqual(subscriber.payloads(on: "\(base)/status"), ["online", "offline"])
        let retained = try broker.retained()
        XCTAssertEqual(retained.first { $0.topic == "\(base)/status" }?.payload, "offline")
        XCTAssertEqual(retained.first { $0.topic == "\(base)/state/tone_1_khz" }?.payload, "OFF")
        // level: RMS and peak in dBFS (the tone is at 0.3 of full scale: peak −10.5 dBFS)
        let levels = subscriber.payloads(on: "\(base)/level").compactMap(Self.json)
        XCTAssertFalse(levels.isEmpty, subscriber.output)
        let loudest = try XCTUnwrap(levels.compactMap { $0["peak_dbfs"] as? Double }.max())
        XCTAssertEqual(loudest, 20 * log10(0.3), accuracy: 0.5)

        // discovery: one device; an event entity with the labels; a binary sensor per included
        // label and group; the level sensor; the connectivity sensor. All retained.
        let discovery = retained.filter { $0.topic.hasPrefix("homeassistant/") }
        let configs = Dictionary(uniqueKeysWithValues: discovery.compactMap { m in Self.json(m.payload).map { (m.topic, $0) } })
        XCTAssertEqual(Set(configs.keys), [
            "homeassistant/event/box1/sound/config", "homeassistant/sensor/box1/level/config",
            "homeassistant/binary_sensor/box1/status/config", "homeassistant/binary_sensor/box1/tone_1_khz/config",
            "homeassistant/binary_sensor/box1/beeps/config",
        ])
        let devices = Set(configs.values.compactMap { ($0["device"] as? [String: Any])?["identifiers"] as? [String] })
        XCTAssertEqual(devices, [["mast_tagger_box1"]])
        let eventEntity = try XCTUnwrap(configs["homeassistant/event/box1/sound/config"])
        XCTAssertEqual(Set(eventEntity["event_types"] as? [String] ?? []), ["Tone 1 kHz", "beeps"])
        XCTAssertEqual(eventEntity["state_topic"] as? String, "\(base)/event")
        XCTAssertEqual(eventEntity["availability_topic"] as? String, "\(base)/status")
        let sensor = try XCTUnwrap(configs["homeassistant/binary_sensor/box1/tone_1_khz/config"])
        XCTAssertEqual(sensor["state_topic"] as? String, "\(base)/state/tone_1_khz")
        XCTAssertEqual(sensor["device_class"] as? String, "sound")
        let level = try XCTUnwrap(configs["homeassistant/sensor/box1/level/config"])
        XCTAssertEqual(level["device_class"] as? String, "sound_pressure")
        XCTAssertEqual(level["unit_of_measurement"] as? String, "dB")
        XCTAssertEqual(configs["homeassistant/binary_sensor/box1/status/config"]?["device_class"] as? String, "connectivity")
        XCTAssertEqual(Set(configs.values.compactMap { $0["unique_id"] as? String }).count, 5)
        XCTAssertTrue(daemon.stderr.contains("0 dropped MQTT messages"), daemon.stderr)
    }

    func testHomeAssistantComingOnlineGetsTheDiscoveryAgain() throws {
        let (broker, daemon) = try publishingDaemon(node: "box2")
        let subscriber = try broker.subscribe("homeassistant/event/#")
        XCTAssertTrue(subscriber.wait(for: 10) { !subscriber.all.isEmpty }, daemon.stderr)  // the retained one
        let before = subscriber.all.count
        try broker.publish(topic: "homeassistant/status", payload: "online")
        XCTAssertTrue(subscriber.wait(for: 5) { subscriber.all.count > before }, daemon.stderr)
        XCTAssertFalse(try XCTUnwrap(subscriber.all.last).retained)  // a live message, not the retained copy
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    /// The broker goes away for a few seconds mid-run: tagging goes on at its pace, the client
    /// reconnects, and every record reaches the subscriber or is counted as dropped; the ones
    /// kept are the newest.
    func testBrokerRestartNeverPausesTaggingAndLosesNothingUncounted() throws {
        let broker = try Broker(directory: directory, persistent: true)
        // A persistent QoS 1 session: what is published while the subscriber reconnects waits for it.
        let subscriber = try broker.subscribe("mast-tagger/box3/#", arguments: ["-c", "-i", "test-sub", "-q", "1"])
        // A `tags` record every half second, at real time.
        let seconds = 14.0
        let url = directory.appendingPathComponent("pulses.wav")
        try Daemon.writeToneWAV(url, seconds: seconds, toneStart: 0, toneEnd: seconds)
        let config = try file("config.yaml", """
            windows: {hop: 0.5}
            mqtt: {url: "\(broker.url)", node: box3, queue: 4, level_seconds: 3600, retry_initial_seconds: 0.2, retry_max_seconds: 0.5}
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(url.path)",
                                 "--tags", "1"])
        XCTAssertTrue(daemon.wait(for: 10) { !subscriber.payloads(on: "mast-tagger/box3/records").isEmpty }, daemon.stderr)
        broker.stop()
        let stoppedAt = daemon.lines.count
        Thread.sleep(forTimeInterval: 4)
        let duringOutage = daemon.lines.count - stoppedAt
        try broker.start()
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        XCTAssertTrue(subscriber.wait(for: 5) { subscriber.payloads(on: "mast-tagger/box3/status").last == "offline" },
                      subscriber.output + daemon.stderr)

        // Tagging never paused: a `tags` record every half second the whole time (7 in 4 s at least).
        XCTAssertGreaterThanOrEqual(duringOutage, 7, daemon.stdout)
        XCTAssertTrue(daemon.stderr.contains("0 dropped windows"), daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("connected to \(broker.url) as mast-tagger-box3 (again)"), daemon.stderr)
        // Every record arrived or was counted as dropped, and the newest ones arrived.
        let received = Set(subscriber.payloads(on: "mast-tagger/box3/records"))
        let sent = daemon.lines
        let dropped = try XCTUnwrap(Self.count(of: "dropped MQTT messages", in: daemon.stderr), daemon.stderr)
        XCTAssertGreaterThan(dropped, 0, "the queue of 4 must have overflowed in 4 s of outage")
        XCTAssertTrue(received.isSubset(of: Set(sent)))
        XCTAssertGreaterThanOrEqual(received.count + dropped, sent.count, "records lost without being counted")
        XCTAssertTrue(received.contains(try XCTUnwrap(sent.last)), "the newest record did not arrive")
    }

    /// Records queued for a broker that never came are counted when the run ends: the summary
    /// said "0 dropped MQTT messages" for records that never left the queue.
    func testRecordsQueuedForABrokerThatNeverCameAreCountedAtExit() throws {
        let port = try Broker.freePort()  // nothing listens there
        let wav = try toneFile(seconds: 5, toneStart: 0, toneEnd: 5)
        let config = try file("config.yaml", """
            input: {realtime: false}
            windows: {hop: 0.5}
            mqtt: {url: "mqtt://127.0.0.1:\(port)", node: box9, level_seconds: 3600}
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)", "--tags", "1"])
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        let records = daemon.lines.count
        XCTAssertGreaterThan(records, 5, daemon.stdout)
        let dropped = try XCTUnwrap(Self.count(of: "dropped MQTT messages", in: daemon.stderr), daemon.stderr)
        XCTAssertGreaterThanOrEqual(dropped, records, "records lost without being counted: \(daemon.stderr)")
        // ...and logged as they are dropped at the stop, not only summed up.
        XCTAssertEqual(Self.count(of: "in all): the broker", in: daemon.stderr), dropped, daemon.stderr)
    }

    func testKilledDaemonShowsOfflineThroughTheLastWill() throws {
        let (broker, daemon) = try publishingDaemon(node: "box4", mqtt: ", keepalive: 5")
        let subscriber = try broker.subscribe("mast-tagger/box4/status")
        XCTAssertTrue(subscriber.wait(for: 10) { subscriber.payloads(on: "mast-tagger/box4/status") == ["online"] }, daemon.stderr)
        daemon.signal(SIGKILL)
        XCTAssertTrue(subscriber.wait(for: 10) { subscriber.payloads(on: "mast-tagger/box4/status") == ["online", "offline"] },
                      subscriber.output)
        XCTAssertEqual(try broker.retained("mast-tagger/box4/status").map(\.payload), ["offline"])
    }

    func testWrongPasswordIsAClearErrorAndARetryNeverACrash() throws {
        let passwords = directory.appendingPathComponent("passwords").path
        let make = try ToolRun("/usr/bin/mosquitto_passwd", ["-c", "-b", passwords, "tagger", "right"])
        XCTAssertEqual(make.status, 0, make.failure)
        let broker = try Broker(directory: directory, extraConfig: "allow_anonymous false\npassword_file \(passwords)\n")
        let secret = try file("secret", "wrong\n")
        let wav = try toneFile(seconds: 60, toneStart: 0, toneEnd: 60)
        let config = try file("config.yaml", """
            mqtt: {url: "\(broker.url)", node: box5, username: tagger, password_file: "\(secret)", retry_initial_seconds: 0.2}
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("refused the connection") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.lowercased().contains("not authori"), daemon.stderr)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stdout.contains("onset") }, "tagging must go on: \(daemon.stderr)")

        // The right password, by reload: connected.
        try "right\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try "mqtt: {url: \"\(broker.url)\", node: box5, username: tagger, password_file: \"\(secret)\", retry_initial_seconds: 0.3}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("connected to \(broker.url)") }, daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    func testTLSWithATestCAAndAWrongCAIsAnErrorThenARetry() throws {
        let tls = try TestCertificates(directory: directory.appendingPathComponent("tls"))
        let broker = try Broker(directory: directory, tls: tls)
        let wav = try toneFile(seconds: 4, toneStart: 1, toneEnd: 3)
        let subscriber = try broker.subscribe("mast-tagger/box6/records")
        let config = try file("config.yaml", """
            input: {realtime: false}
            mqtt: {url: "mqtts://localhost:\(broker.port)", node: box6, ca_file: "\(tls.ca)"}
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        XCTAssertTrue(subscriber.wait(for: 5) { subscriber.payloads(on: "mast-tagger/box6/records") == daemon.lines },
                      subscriber.output + daemon.stderr)
        XCTAssertGreaterThan(daemon.lines.count, 0)

        // A CA that did not sign the broker's certificate: an error in the log, retries, tagging goes on.
        let other = try TestCertificates(directory: directory.appendingPathComponent("other"))
        let wrong = try file("wrong.yaml", """
            mqtt: {url: "mqtts://localhost:\(broker.port)", node: box6, ca_file: "\(other.ca)", retry_initial_seconds: 0.2}
            """)
        let long = try toneFile(seconds: 30, toneStart: 0, toneEnd: 30)
        let refused = try Daemon(["run", "--config", wrong, "--model", Daemon.testModel, "--input", "wav:\(long)"])
        XCTAssertTrue(refused.wait(for: 10) { refused.stderr.contains("MQTT:") && refused.stdout.contains("onset") }, refused.stderr)
        XCTAssertFalse(refused.stderr.contains("connected to"), refused.stderr)
        refused.signal(SIGTERM)
        XCTAssertEqual(refused.exitStatus(within: 10), 0, refused.stderr)
    }

    /// MQTT 5, with standard output in text: the broker still gets JSON records.
    func testMQTT5AndJSONRecordsWhateverTheOutputFormat() throws {
        let broker = try Broker(directory: directory)
        let subscriber = try broker.subscribe("mast-tagger/box9/#")
        let wav = try toneFile(seconds: 4, toneStart: 1, toneEnd: 3)
        let config = try file("config.yaml", """
            input: {realtime: false}
            events: {exclude: [Silence]}
            output: {format: text}
            mqtt: {url: "\(broker.url)", node: box9, protocol: "5"}
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertEqual(daemon.exitStatus(within: 30), 0, daemon.stderr)
        XCTAssertTrue(subscriber.wait(for: 5) { subscriber.payloads(on: "mast-tagger/box9/status").last == "offline" }, subscriber.output)
        let records = subscriber.payloads(on: "mast-tagger/box9/records").compactMap(Self.json)
        XCTAssertEqual(records.compactMap { $0["type"] as? String }, ["onset", "event"])
        XCTAssertEqual(daemon.lines.count, 2)
        XCTAssertTrue(daemon.lines[0].contains(" onset Tone 1 kHz "), daemon.stdout)
        XCTAssertTrue(records.allSatisfy { $0["node"] as? String == "box9" })
    }

    /// Something that is not a broker answers on the port: garbage, then a connection closed
    /// mid-packet. Logged and retried; tagging goes on; the daemon stops cleanly.
    func testAPeerThatSendsGarbageIsLoggedAndRetried() throws {
        let server = try GarbageServer()
        let wav = try toneFile(seconds: 60, toneStart: 0, toneEnd: 60)
        let config = try file("config.yaml", """
            mqtt: {url: "mqtt://127.0.0.1:\(server.port)", node: box10, retry_initial_seconds: 0.1, retry_max_seconds: 0.2}
            """)
        let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:\(wav)"])
        XCTAssertTrue(daemon.wait(for: 10) { server.connections >= 3 && daemon.stdout.contains("onset") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("MQTT: connection to mqtt://127.0.0.1:\(server.port)"), daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    func testBadMQTTSettingsAreRefusedWithFileKeyAndLine() throws {
        let cases: [(String, String)] = [
            ("mqtt:\n  url: \"mqtt:/broken\"\n", "config.yaml:2: mqtt.url"),
            ("mqtt:\n  url: \"http://broker:1883\"\n", "unknown scheme 'http'"),
            ("mqtt:\n  url: \"mqtt://broker:99999\"\n", "port '99999'"),
            ("mqtt:\n  url: \"mqtt://broker\"\n  node: \"a+b\"\n", "config.yaml:3: mqtt.node"),
            ("mqtt:\n  url: \"mqtt://broker\"\n  topic_prefix: \"tagger//x\"\n", "empty topic level"),
            ("mqtt:\n  url: \"mqtt://broker\"\n  username: u\n  password_file: /nonexistent/secret\n",
             "config.yaml:4: mqtt.password_file: /nonexistent/secret: no such file"),
            ("mqtt:\n  url: \"mqtts://broker\"\n  ca_file: /nonexistent/ca.pem\n", "config.yaml:3: mqtt.ca_file"),
            ("mqtt:\n  url: \"mqtt://broker\"\n  qos: 3\n", "config.yaml:3: mqtt.qos"),
        ]
        for (yaml, expected) in cases {
            let config = try file("config.yaml", yaml)
            let daemon = try Daemon(["run", "--config", config, "--model", Daemon.testModel, "--input", "wav:/nonexistent.wav"])
            XCTAssertNotEqual(daemon.exitStatus(within: 10), 0, yaml)
            XCTAssertTrue(daemon.stderr.contains(expected), "\(yaml): \(daemon.stderr)")
        }
        let flag = try Daemon(["run", "--model", Daemon.testModel, "--input", "wav:/nonexistent.wav", "--mqtt", "tcp://x"])
        XCTAssertNotEqual(flag.exitStatus(within: 10), 0)
        XCTAssertTrue(flag.stderr.contains("unknown scheme 'tcp'"), flag.stderr)
    }

    func testABadMQTTSectionOnReloadKeepsTheRunningConnection() throws {
        let (broker, daemon) = try publishingDaemon(node: "box7")
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("connected to") }, daemon.stderr)
        _ = try file("config.yaml", "mqtt: {url: \"\(broker.url)\", node: \"box#7\"}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("configuration not reloaded") }, daemon.stderr)
        let subscriber = try broker.subscribe("mast-tagger/box7/records")
        XCTAssertTrue(subscriber.wait(for: 10) { !subscriber.all.isEmpty }, "still publishing: \(daemon.stderr)")
        XCTAssertEqual(daemon.stderr.components(separatedBy: "connected to").count - 1, 1, daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    /// The number just before `suffix` in `text` (the last one), e.g. "3 dropped MQTT messages".
    static func count(of suffix: String, in text: String) -> Int? {
        guard let range = text.range(of: " \(suffix)", options: .backwards) else { return nil }
        return Int(text[..<range.lowerBound].split(whereSeparator: { !$0.isNumber }).last ?? "")
    }
}

/// A TCP listener on a free loopback port that answers every connection with bytes that are not
/// MQTT (a CONNACK header with a length that runs past what it sends) and closes it.
final class GarbageServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var accepted = 0

    init() throws {
        port = try Broker.freePort()
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else { throw BrokerError(reason: "cannot listen on \(port)") }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    var connections: Int { lock.withLock { accepted } }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            lock.withLock { accepted += 1 }
            let garbage: [UInt8] = [0x20, 0x7F, 0x00, 0xFF, 0xDE, 0xAD, 0xBE, 0xEF]
            _ = garbage.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }
}
