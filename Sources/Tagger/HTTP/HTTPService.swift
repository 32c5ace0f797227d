import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP endpoint (`http.listen`), a Service in the daemon's group that shuts down with it:
///
///     GET /           the live page (self-contained: no external scripts or fonts)
///     GET /api/live   its feed, Server-Sent Events (one `hello`, then an `update` per live_seconds)
///     GET /api/now    the same as one JSON object
///     GET /metrics    Prometheus text format
///     GET /health     200 {"ok":true,…} while the feature stage makes progress and audio comes; 503 with the reason
///
/// Requests are answered from what the daemon keeps (counters, the `LiveView`) and never wait
/// for the pipeline. Connections are capped (`maxConnections`; more wait in the kernel's backlog),
/// headers are capped by the HTTP parser (80 KiB), and live pages by `http.live_clients`. A
/// connection with no request in progress is closed after `idleSeconds`, so clients that connect
/// and send nothing (or a request the parser refused) cannot hold the connections up.
public struct HTTPService: Service {
    /// Open connections at once; enough for a Prometheus server, a few pages and load tests.
    public static let maxConnections = 256
    /// Seconds a connection may sit without a request in progress (a live page's stream is one).
    public static let idleSeconds: Int64 = 10
    /// Kernel send buffer of a live page's connection (Linux doubles it).
    public static let liveSendBuffer: SocketOptionValue = 16 * 1024

    private let address: HTTPAddress
    private let daemon: DaemonService
    private let locate: DaemonService.ErrorLocator
    private let logger: Logger

    public init(address: HTTPAddress, daemon: DaemonService, locate: @escaping DaemonService.ErrorLocator = { $0 }, logger: Logger) {
        self.address = address
        self.daemon = daemon
        self.locate = locate
        self.logger = logger
    }

    public func run() async throws {
        let feed = LiveFeed(view: daemon.liveView, metrics: daemon.metrics)
        let router = Router(context: ChannelRequestContext.self)
        let daemon = self.daemon
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: LivePage.html)))
        }
        router.get("/metrics") { _, _ in
            daemon.refreshMetrics()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: daemon.metrics.text())))
        }
        router.get("/health") { _, _ in
            let health = daemon.health()
            return Self.json(health, status: health.ok ? .ok : .serviceUnavailable)
        }
        router.get("/api/now") { _, _ in Self.json(daemon.liveView.snapshot(), status: .ok) }
        router.get("/api/live") { _, context in
            let settings = (daemon.runningConfig ?? TaggerConfig()).http
            let stream: AsyncStream<String>
            do {
                let channel = context.channel
                // A page that stops reading may hold this much in the kernel (and NIO's 64 KiB
                // before the response's writes wait), not the megabytes Linux would grow it to;
                // beyond it, its updates wait in its feed buffer and the oldest are dropped.
                _ = channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: Self.liveSendBuffer)
                stream = try feed.connect(limit: settings.liveClients, buffer: settings.liveBuffer) { channel.close(promise: nil) }
            } catch {
                return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: "10"],
                                body: .init(byteBuffer: ByteBuffer(string: "too many live pages (http.live_clients)\n")))
            }
            return Response(status: .ok,
                            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                            body: ResponseBody { writer in
                                // Ends when the page leaves (a write fails) or the feed closes (shutdown).
                                for await message in stream {
                                    try await writer.write(ByteBuffer(string: message))
                                }
                                try await writer.finish(nil)
                            })
        }

        let bound = BoundFlag()
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Self.idleSeconds))),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "mast-tagger",
                                 availableConnectionsDelegate: MaximumAvailableConnections(Self.maxConnections, logger: logger)),
            onServerRunning: { [logger, address] _ in
                bound.set()
                logger.info("HTTP server listening", metadata: ["address": "http://\(address)/"])
            },
            logger: logger)
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await feed.run { (daemon.runningConfig ?? TaggerConfig()).http.liveSeconds } }
                group.addTask {
                    // The live pages' streams end first, so that their responses let the server stop.
                    try await withGracefulShutdownHandler {
                        try await app.run()
                    } onGracefulShutdown: {
                        feed.close()
                    }
                    throw CancellationError()  // the server has stopped: end the ticker too
                }
            }
        } catch is CancellationError {
            feed.close()
        } catch {
            feed.close()
            // Before the socket was bound: a bad address or a port in use, a problem of `http.listen`.
            guard bound.isSet else {
                throw locate(ConfigError(key: "http.listen", reason: "cannot listen on \(address): \(Self.describe(error))"))
            }
            throw error
        }
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// NIO's bind errors, in words ("Address already in use (errno: 98)" → "address already in use").
    private static func describe(_ error: Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }
}

/// Hummingbird's basic context and the request's connection (the live feed closes it at shutdown).
struct ChannelRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Set once the server socket is bound (by Hummingbird's `onServerRunning`, on another task).
private final class BoundFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
