import CMosquitto
import Foundation

/// One connection attempt's libmosquitto client (Eclipse Mosquitto's C library), used from one
/// thread only, the publisher's: libmosquitto's own network loop runs inside `loop`, and the
/// callbacks it makes there are collected as `events` for that thread to act on.
///
/// A client lives for one connection: after a failure the publisher makes a new one, so no
/// state of a broken session (half-written packets, libmosquitto's own resend queue) carries over.
final class MQTTConnection {
    /// What the broker or the network did, in the order libmosquitto reported it.
    enum Event: Equatable {
        case connected
        /// The broker answered CONNECT with a refusal (bad password, not authorised, ...).
        case refused(String)
        case lost(String)
        /// A message handed over by `publish` is delivered (QoS 1, 2) or written (QoS 0).
        case published(messageID: Int32)
        case message(topic: String, payload: String)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The text for a libmosquitto result code; `errno` for system-call errors.
    static func describe(_ code: Int32) -> String {
        code == Int32(MOSQ_ERR_ERRNO.rawValue) ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(code))
    }

    /// `mosquitto_lib_init` once per process (it is not thread-safe; a lazy static is initialised once).
    private static let library: Void = { mosquitto_lib_init() }()

    private let handle: OpaquePointer
    private(set) var events: [Event] = []

    /// A client with its options, will and credentials set, not yet connected.
    init(clientID: String, settings: TaggerConfig.MQTT, password: String?, will: (topic: String, payload: String)) throws {
        _ = Self.library
        guard let handle = mosquitto_new(clientID, true, nil) else { throw Failure(description: "cannot make an MQTT client: out of memory") }
        self.handle = handle
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        let version = settings.protocolVersion == "5" ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, version), "protocol version")
        try check(mosquitto_will_set(handle, will.topic, Int32(will.payload.utf8.count), will.payload, 1, true), "last will")
        if !settings.username.isEmpty {
            try check(mosquitto_username_pw_set(handle, settings.username, password), "username")
        }
        if try settings.endpoint().tls {
            func path(_ value: String) -> String? { value.isEmpty ? nil : value }
            if settings.caFile.isEmpty { try check(mosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "system CA certificates") }
            try check(mosquitto_tls_set(handle, path(settings.caFile), nil, path(settings.certFile), path(settings.keyFile), nil),
                      "TLS files")
        }
        mosquitto_connect_callback_set(handle) { _, object, code in
            let connection = MQTTConnection.from(object)
            connection.events.append(code == 0 ? .connected : .refused(String(cString: mosquitto_connack_string(code))))
        }
        mosquitto_disconnect_callback_set(handle) { _, object, code in
            MQTTConnection.from(object).events.append(.lost(code == 0 ? "disconnected" : MQTTConnection.describe(code)))
        }
        mosquitto_publish_callback_set(handle) { _, object, messageID in
            MQTTConnection.from(object).events.append(.published(messageID: messageID))
        }
        mosquitto_message_callback_set(handle) { _, object, message in
            guard let message = message?.pointee, let topic = message.topic else { return }
            let payload = message.payload.map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(max(message.payloadlen, 0))), as: UTF8.self)
            } ?? ""
            MQTTConnection.from(object).events.append(.message(topic: String(cString: topic), payload: payload))
        }
    }

    deinit { mosquitto_destroy(handle) }

    private static func from(_ object: UnsafeMutableRawPointer?) -> MQTTConnection {
        Unmanaged<MQTTConnection>.fromOpaque(object!).takeUnretainedValue()
    }

    private func check(_ code: Int32, _ what: String) throws {
        guard code == Int32(MOSQ_ERR_SUCCESS.rawValue) else { throw Failure(description: "\(what): \(Self.describe(code))") }
    }

    /// Opens the network connection and sends CONNECT; the broker's answer comes as an event of a
    /// later `loop`. Blocks for the TCP connection (and TLS handshake).
    func connect(to endpoint: MQTTEndpoint, keepalive: Int) throws {
        try check(mosquitto_connect(handle, endpoint.host, Int32(endpoint.port), Int32(keepalive)), "cannot connect to \(endpoint)")
    }

    /// Runs the network loop for up to `milliseconds`; throws when the connection failed.
    func loop(milliseconds: Int32) throws {
        let code = mosquitto_loop(handle, milliseconds, 1)
        guard code == Int32(MOSQ_ERR_SUCCESS.rawValue) else { throw Failure(description: Self.describe(code)) }
    }

    /// Hands a message to libmosquitto; returns its message id (reported back as `.published`).
    func publish(topic: String, payload: [UInt8], qos: Int, retain: Bool) throws -> Int32 {
        var messageID: Int32 = 0
        let code = payload.withUnsafeBytes {
            mosquitto_publish(handle, &messageID, topic, Int32($0.count), $0.baseAddress, Int32(qos), retain)
        }
        try check(code, "publish to \(topic)")
        return messageID
    }

    func subscribe(topic: String) throws {
        try check(mosquitto_subscribe(handle, nil, topic, 1), "subscribe to \(topic)")
    }

    /// Sends DISCONNECT (a clean end: the broker does not publish the last will).
    func disconnect() {
        _ = mosquitto_disconnect(handle)
    }

    /// The events collected since the last call.
    func takeEvents() -> [Event] {
        defer { events = [] }
        return events
    }
}
