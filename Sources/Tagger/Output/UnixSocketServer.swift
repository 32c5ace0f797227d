import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Serves record lines on a Unix domain stream socket: every line goes to every connected client,
/// in order. Clients connect and disconnect at any time; what they send is read and discarded.
///
/// Threads: `write(line:)` only hands the line to the server's event loop and returns. The listener
/// and all clients live on that one loop, so the client list needs no lock and each client sees the
/// lines in write order.
///
/// Slow clients: a client whose outbound buffer in this process exceeds `highWaterMark` bytes (on top
/// of what the kernel's socket buffer holds, about 200 KiB on Linux) is disconnected and counted in
/// `droppedSlow`; nobody else waits for it.
///
/// Lifecycle: `start()` binds (or adopts systemd's socket), `stop()` closes the listener, gives the
/// clients up to `drainTimeout` to take what is buffered for them (a client still holding lines
/// then is closed with them and counted in `droppedSlow`), closes every client and removes the
/// socket file it created. As a swift-service-lifecycle `Service`, `run()`
/// starts unless already started, waits for graceful shutdown, then stops; call `start()` first
/// when the socket must be listening before something else happens (systemd's READY=1).
public final class UnixSocketServer: RecordSink, Service {
    /// Where the listening socket comes from.
    public enum Listener: Sendable {
        /// Bind a new socket at this path with this file mode (set before it appears there). A stale
        /// socket file is replaced; anything else at the path is an error.
        case path(String, mode: mode_t = 0o660)
        /// Adopt a socket that is already bound and listening: systemd socket activation
        /// (`SystemdSocketActivation.listeningSocket()`). Its file belongs to systemd and stays.
        case fileDescriptor(CInt)
    }

    public struct Counters: Sendable, Equatable {
        /// Clients connected now.
        public var connected = 0
        /// Clients accepted since start.
        public var accepted = 0
        /// Clients disconnected because they did not keep up.
        public var droppedSlow = 0
        /// Record lines handed to clients' sockets, once per client.
        public var linesWritten = 0
    }

    /// Why the server could not start; `subject` names the socket path or descriptor.
    public struct Failure: Error, CustomStringConvertible {
        public let subject: String
        public let reason: String
        public var description: String { "\(subject): \(reason)" }
    }

    private enum State {
        case idle, starting
        case running(listener: Channel)
        case stopped
    }

    private let listener: Listener
    private let highWaterMark: Int
    private let eventLoop: EventLoop
    private let logger: Logger
    private let state = NIOLockedValueBox(State.idle)
    private let counterBox = NIOLockedValueBox(Counters())
    /// How long `stop()` waits for clients to take the lines buffered for them in this process.
    static let drainTimeout = Duration.seconds(1)

    /// Connected clients, by channel identity; touched only on `eventLoop`.
    private let clients: NIOLoopBoundBox<[ObjectIdentifier: Channel]>

    /// - Parameters:
    ///   - highWaterMark: bytes that may wait in this process for one client before it is dropped.
    ///   - eventLoopGroup: the server takes one loop of it for the listener and all clients.
    public init(listener: Listener, highWaterMark: Int = 256 * 1024,
                eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        precondition(highWaterMark > 0, "highWaterMark must be positive")
        self.listener = listener
        self.highWaterMark = highWaterMark
        self.eventLoop = eventLoopGroup.next()
        self.logger = logger
        clients = .makeBoxSendingValue([:], eventLoop: eventLoop)
    }

    public var counters: Counters { counterBox.withLockedValue { $0 } }

    /// Clients dropped for not reading (each missed every line after).
    public var losses: String { "\(counters.droppedSlow) slow socket clients dropped" }
    public var recordsWritten: Int { counters.linesWritten }

    /// Binds or adopts the listening socket; returns once clients can connect. Does nothing when
    /// already started (or starting).
    public func start() async throws {
        let proceed = state.withLockedValue { state in
            switch state {
            case .idle:
                state = .starting
                return true
            case .starting, .running:
                return false
            case .stopped:
                preconditionFailure("a stopped UnixSocketServer cannot start again")
            }
        }
        guard proceed else { return }
        let channel: Channel
        do {
            channel = try await bind()
        } catch {
            state.withLockedValue { $0 = .idle }
            throw error
        }
        state.withLockedValue { $0 = .running(listener: channel) }
        logger.info("listening for record clients", metadata: ["socket": "\(subject)"])
    }

    /// Hands the line to the event loop, which writes it to every client.
    public func write(line: String) {
        var buffer = ByteBufferAllocator().buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        eventLoop.execute { [clients, counterBox, buffer] in
            // A client dropped while this loop runs leaves the dictionary, not this copy of it;
            // writing to its closed channel fails quietly.
            let channels = clients.value.values
            for channel in channels {
                channel.writeAndFlush(buffer, promise: nil)
            }
            counterBox.withLockedValue { $0.linesWritten += channels.count }
        }
    }

    /// Closes the listener and every client and removes the socket file (not systemd's). Lines
    /// written before this call are handed to the clients' sockets first; a client that has not
    /// taken them within `drainTimeout` loses them and is counted as a slow client dropped.
    public func stop() async {
        let listenerChannel: Channel? = state.withLockedValue { state in
            defer { state = .stopped }
            guard case .running(let channel) = state else { return nil }
            return channel
        }
        guard let listenerChannel else { return }
        try? await listenerChannel.close()
        if case .path(let path, _) = listener, unlink(path) != 0, errno != ENOENT {
            logger.warning("could not remove the socket file", metadata: ["socket": "\(path)", "error": "\(Self.lastError())"])
        }
        let holding = await clientsHoldingLines(within: Self.drainTimeout)
        if holding > 0 {
            let dropped = counterBox.withLockedValue { counters in
                counters.droppedSlow += holding
                return counters.droppedSlow
            }
            logger.warning("closing record clients that had not taken every line",
                           metadata: ["clients": "\(holding)", "dropped_slow": "\(dropped)"])
        }
        let loop = eventLoop
        try? await loop.flatSubmit { [clients] in
            EventLoopFuture.andAllComplete(clients.value.values.map { $0.close() }, on: loop)
        }.get()
        logger.info("record socket closed", metadata: ["socket": "\(subject)"])
    }

    /// The clients with record bytes still buffered for them in this process, once none has any
    /// or after `timeout`.
    private func clientsHoldingLines(within timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let holding = (try? await eventLoop.submit { [clients] in
                clients.value.values.filter { ((try? $0.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0) > 0 }.count
            }.get()) ?? 0
            if holding == 0 || ContinuousClock.now >= deadline { return holding }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    public func run() async throws {
        try await start()
        do {
            try await gracefulShutdown()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// The path or descriptor, for messages.
    private var subject: String {
        switch listener {
        case .path(let path, _): return path
        case .fileDescriptor(let descriptor): return "file descriptor \(descriptor) (socket activation)"
        }
    }

    private func bind() async throws -> Channel {
        let watermark = ChannelOptions.Types.WriteBufferWaterMark(low: highWaterMark / 2, high: highWaterMark)
        let bootstrap = ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.writeBufferWaterMark, value: watermark)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(server: self))
                }
            }
        switch listener {
        case .fileDescriptor(let descriptor):
            do {
                return try await bootstrap.withBoundSocket(descriptor).get()
            } catch {
                throw Failure(subject: subject, reason: "cannot listen on it: \(error)")
            }
        case .path(let path, let mode):
            try removeStaleSocket(at: path)
            // bind(2) creates the file with the umask's mode: bind in a fresh directory beside the
            // final path that only this process can write (so nobody can put a symlink where the
            // chmod goes, as they could at a predictable staging name), set the mode, then rename,
            // so no client ever sees the socket with other permissions. "DIR/.XXXXXX/s" is no
            // longer than the final path when its file name has 9 characters or more (the old
            // "PATH.PID.new" made paths of 97–107 bytes too long).
            let directory = (path as NSString).deletingLastPathComponent
            var template = Array("\(directory.isEmpty ? "." : directory)/.XXXXXX".utf8CString)
            guard let stagingDirectory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!).map { String(cString: $0) } }) else {
                throw Failure(subject: path, reason: "cannot make a staging directory beside it: \(Self.lastError())")
            }
            let staging = stagingDirectory + "/s"
            defer { rmdir(stagingDirectory) }
            let channel: Channel
            do {
                channel = try await bootstrap.bind(unixDomainSocketPath: staging).get()
            } catch {
                throw Failure(subject: path, reason: "cannot bind: \(error)")
            }
            guard chmod(staging, mode) == 0, rename(staging, path) == 0 else {
                let reason = "cannot set mode \(String(mode, radix: 8)) and move it into place: \(Self.lastError())"
                try? await channel.close()
                unlink(staging)
                throw Failure(subject: path, reason: reason)
            }
            return channel
        }
    }

    /// Makes `path` free for bind(2): nothing there, or a socket nobody listens on any more (left by
    /// a process that died), which is removed. A live socket or any other file is an error.
    private func removeStaleSocket(at path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            guard errno == ENOENT else { throw Failure(subject: path, reason: "cannot inspect it: \(Self.lastError())") }
            return
        }
        guard status.st_mode & S_IFMT == S_IFSOCK else {
            throw Failure(subject: path, reason: "exists and is not a socket; refusing to replace it")
        }
        let address: SocketAddress
        do {
            address = try SocketAddress(unixDomainSocketPath: path)
        } catch {
            throw Failure(subject: path, reason: "not usable as a socket address: \(error)")
        }
        // A non-blocking connect answers at once: ECONNREFUSED when nobody listens, success or
        // EAGAIN (backlog full) when someone does.
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw Failure(subject: path, reason: "cannot probe it: \(Self.lastError())") }
        let connected = address.withSockAddr { connect(probe, $0, socklen_t($1)) } == 0
        let connectError = errno
        close(probe)
        guard !connected, connectError == ECONNREFUSED else {
            throw Failure(subject: path, reason: connected || connectError == EAGAIN
                ? "another process is listening on this socket (is the tagger already running?)"
                : "cannot tell whether the socket is in use: \(String(cString: strerror(connectError)))")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Failure(subject: path, reason: "cannot remove the stale socket: \(Self.lastError())")
        }
        logger.info("removed a stale socket file", metadata: ["socket": "\(path)"])
    }

    // Called on `eventLoop` by the clients' handlers.

    fileprivate func clientConnected(_ channel: Channel) {
        // Accepted just as stop() swept the clients: it would be missed, so close it here.
        guard state.withLockedValue({ if case .stopped = $0 { false } else { true } }) else {
            channel.close(promise: nil)
            return
        }
        clients.value[ObjectIdentifier(channel)] = channel
        let count = clients.value.count
        counterBox.withLockedValue { $0.connected = count; $0.accepted += 1 }
        logger.debug("record client connected", metadata: ["clients": "\(count)"])
    }

    fileprivate func clientDisconnected(_ channel: Channel) {
        guard clients.value.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        let count = clients.value.count
        counterBox.withLockedValue { $0.connected = count }
        logger.debug("record client disconnected", metadata: ["clients": "\(count)"])
    }

    fileprivate func clientTooSlow(_ channel: Channel) {
        let dropped = counterBox.withLockedValue { counters in
            counters.droppedSlow += 1
            return counters.droppedSlow
        }
        logger.warning("disconnecting a record client that does not keep up",
                       metadata: ["high_water_mark": "\(highWaterMark)", "dropped_slow": "\(dropped)"])
        channel.close(promise: nil)
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

/// One per client: registers it with the server, discards its input and drops it when its
/// outbound buffer passes the high-water mark (NIO then marks the channel not writable).
private final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let server: UnixSocketServer

    init(server: UnixSocketServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        server.clientConnected(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.clientDisconnected(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable { server.clientTooSlow(context.channel) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A client that vanished mid-write (EPIPE, ECONNRESET): just let it go.
        context.close(promise: nil)
    }
}
