import Foundation

/// Headless Chromium driven through the DevTools protocol (a WebSocket on loopback): a page is
/// opened, then asked what it shows while it stays open, which `--dump-dom` cannot do (it
/// dumps at the load event, before a live page's first update, and a virtual-time budget never
/// ends while a Server-Sent Events request is open).
final class DevTools {
    static let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    private let process = Process()
    private var socket: Int32 = -1
    private var nextID = 1

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Starts Chromium on `url` with a profile in `profile`, and attaches to the page.
    init(url: String, profile: URL, width: Int = 1280, height: Int = 800) throws {
        guard let binary = Self.binary else { throw Failure(description: "chromium is not installed") }
        let port = try HTTPClient.freePort()
        process.executableURL = URL(fileURLWithPath: binary)
        // No sandbox: tests may run as root, which Chromium's sandbox refuses.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                             "--window-size=\(width),\(height)", "--remote-debugging-port=\(port)",
                             "--remote-allow-origins=*", "--user-data-dir=\(profile.path)", url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var target: String?
        let deadline = Date().addingTimeInterval(30)
        while target == nil && Date() < deadline {
            if let reply = try? HTTPClient.get(port: port, "/json/list"),
               let list = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]],
               let page = list.first(where: { $0["type"] as? String == "page" }) {
                target = page["webSocketDebuggerUrl"] as? String
            } else {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        guard let target, let path = URL(string: target)?.path else { throw Failure(description: "no page target from chromium") }
        socket = try HTTPClient.connect(port: port, timeout: 30)
        let key = Data((0 ..< 16).map { _ in UInt8.random(in: 0 ... 255) }).base64EncodedString()
        try HTTPClient.send(socket, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        var header = [UInt8]()
        while !header.suffix(4).elementsEqual([13, 10, 13, 10]) { header.append(try readBytes(1)[0]) }
        guard String(decoding: header, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw Failure(description: "websocket upgrade refused: \(String(decoding: header, as: UTF8.self))")
        }
    }

    deinit {
        if socket >= 0 { close(socket) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Calls a DevTools method; its `result`.
    func call(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        let id = nextID
        nextID += 1
        let message = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        try sendFrame(Array(message))
        while true {  // events come between the replies; skip them
            let reply = try JSONSerialization.jsonObject(with: Data(try readMessage())) as? [String: Any] ?? [:]
            guard reply["id"] as? Int == id else { continue }
            if let error = reply["error"] { throw Failure(description: "\(method): \(error)") }
            return reply["result"] as? [String: Any] ?? [:]
        }
    }

    /// Evaluates a JavaScript expression in the page; its value.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        return (result["result"] as? [String: Any])?["value"]
    }

    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png"])
        guard let base64 = result["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot data")
        }
        return data
    }

    // MARK: WebSocket frames (RFC 6455): client frames masked, server frames read whole

    private func sendFrame(_ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x81]  // FIN, text
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0 ..< 8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask = (0 ..< 4).map { _ in UInt8.random(in: 0 ... 255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try sendRaw(frame)
    }

    private func sendRaw(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private func readMessage() throws -> [UInt8] {
        var message = [UInt8]()
        while true {
            let head = try readBytes(2)
            var length = Int(head[1] & 0x7F)
            if length == 126 {
                length = try readBytes(2).reduce(0) { $0 << 8 | Int($1) }
            } else if length == 127 {
                length = try readBytes(8).reduce(0) { $0 << 8 | Int($1) }
            }
            let payload = try readBytes(length)
            let opcode = head[0] & 0x0F
            if opcode == 0x8 { throw Failure(description: "chromium closed the DevTools connection") }
            if opcode == 0x9 || opcode == 0xA { continue }  // ping, pong
            message += payload
            if head[0] & 0x80 != 0 { return message }
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count), read = 0
        while read < count {
            let n = bytes[read...].withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: "recv: \(n == 0 ? "closed" : String(cString: strerror(errno)))") }
            read += n
        }
        return bytes
    }
}
