import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// A fresh directory for test sockets, short enough for sun_path (108 bytes); removed by `removeAll()`.
struct SocketDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/mast-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno)!) }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func removeAll() { try? FileManager.default.removeItem(atPath: path) }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` until it holds; throws after `seconds`, so no test can hang.
func waitUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// What a test client has received so far.
struct Received {
    var bytes: [UInt8] = []
    var lineCount = 0
    var closed = false

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Collects everything a client channel reads.
final class ReceiveCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let received: NIOLockedValueBox<Received>

    init(_ received: NIOLockedValueBox<Received>) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let newlines = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        received.withLockedValue { $0.bytes += bytes; $0.lineCount += newlines }
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.withLockedValue { $0.closed = true }
        context.fireChannelInactive()
    }
}

/// A client that reads everything the server sends.
struct ReadingClient {
    let channel: Channel
    let received: NIOLockedValueBox<Received>

    static func connect(to path: String) async throws -> ReadingClient {
        let received = NIOLockedValueBox(Received())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReceiveCollector(received))
                }
            }
            .connect(unixDomainSocketPath: path).get()
        return ReadingClient(channel: channel, received: received)
    }

    var snapshot: Received { received.withLockedValue { $0 } }
    var lineCount: Int { received.withLockedValue { $0.lineCount } }
}

/// A raw socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound to `path`; with `listening`, also listening.
func boundSocket(type: Int32, path: String, listening: Bool = false) throws -> Int32 {
    let descriptor = socket(AF_UNIX, type, 0)
    guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
    let bound = try SocketAddress(unixDomainSocketPath: path).withSockAddr { bind(descriptor, $0, socklen_t($1)) }
    guard bound == 0, !listening || listen(descriptor, 16) == 0 else {
        let error = POSIXError(.init(rawValue: errno)!)
        close(descriptor)
        throw error
    }
    return descriptor
}

/// A blocking stream socket connected to `path` that the test reads from only when it wants to.
func connectedSocket(to path: String) throws -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
    let connected = try SocketAddress(unixDomainSocketPath: path).withSockAddr { connect(descriptor, $0, socklen_t($1)) }
    guard connected == 0 else {
        let error = POSIXError(.init(rawValue: errno)!)
        close(descriptor)
        throw error
    }
    return descriptor
}

/// Sets a receive timeout, so a blocking read in a test cannot hang.
func setReceiveTimeout(_ descriptor: Int32, seconds: Int) {
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
}
