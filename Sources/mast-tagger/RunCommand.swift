import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Tagger

/// The daemon: tags the configured input until stopped (SIGTERM, SIGINT) or until a file or
/// pipe input ends; SIGHUP rereads the configuration.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Tag an input continuously and write records to stdout or a Unix socket (and MQTT).")

    @OptionGroup var options: TaggerOptions

    @Option(help: "alsa:DEVICE, wav:PATH or stdin (overrides input.source).")
    var input: String?

    @Option(help: "stdout or unix:PATH (overrides output.target).")
    var output: String?

    @Option(name: .customLong("tags"), help: "Also write the K best classes of every window (overrides tags.top_k).")
    var tagsTopK: Int?

    @Option(help: "Also publish to the MQTT broker at mqtt://HOST[:PORT] or mqtts://… (overrides mqtt.url).")
    var mqtt: String?

    @Option(help: "This tagger's name among several on one box, recorded as `source` (overrides name).")
    var name: String?

    @Option(help: "Serve metrics, health and the live page at HOST:PORT, e.g. 127.0.0.1:8080 (overrides http.listen).")
    var http: String?

    @Option(help: "Save the audio of each event as a WAV file in DIR (overrides clips.directory).")
    var clips: String?

    func run() async throws {
        bootstrapLogging(level: .info)
        let logger = Logger(label: "mast-tagger")
        let overrides = (input, output, tagsTopK, mqtt, name, http, clips)
        let options = self.options
        let configuration: DaemonService.ConfigurationSource = {
            var config = try options.configuration()
            if let input = overrides.0 { config.input.source = try InputSource(parsing: input) }
            if let output = overrides.1 { config.output.target = try OutputTarget(parsing: output) }
            if let topK = overrides.2 { config.tags.topK = topK }
            if let url = overrides.3 { config.mqtt.url = url }
            if let name = overrides.4 { config.name = name }
            if let listen = overrides.5 { config.http.listen = listen }
            if let clips = overrides.6 { config.clips.directory = clips }
            try config.validate()
            return config
        }
        let config = try configuration()
        try StandardDescriptors.requireOpen(input: config.input.source == .stdin, output: config.output.target == .stdout)
        warnIfWorldWritable([options.config, try? ModelLocator.resolve(config.model)].compactMap { $0 }, logger: logger)

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let sink: RecordSink
        var stdoutSink: StdoutSink?
        let shutdown = ShutdownTrigger()
        switch config.output.target {
        case .stdout:
            // A live input must not wait for a slow reader (lines are dropped, counted and
            // logged); any other input waits, so that no record is lost.
            let stdout = StdoutSink(backpressure: config.input.isLive ? .drop : .wait, logger: logger) { closed in
                if closed.isBrokenPipe {
                    logger.notice("\(closed); stopping")  // `run | head`: the reader has all it wanted
                } else {
                    logger.error("\(closed); stopping")
                }
                shutdown.fire()
            }
            stdout.start()
            stdoutSink = stdout
            sink = stdout
        case .unix(let path):
            let server = UnixSocketServer(listener: try socketListener(path: path, mode: config.output.socketMode), logger: logger)
            // Bound before the group runs: a bad path fails here, and READY=1 can't precede the socket.
            try await server.start()
            services.append(.init(service: server))
            sink = server
        }

        let daemon = DaemonService(configuration: configuration, loadModel: ModelLocator.load,
                                   locate: { [options] in options.locate($0) }, sink: sink,
                                   notifier: SystemdNotifier(), logger: logger, observing: config.http.isEnabled)
        services.append(.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup))
        if config.http.isEnabled {
            // Stops with the group; a bad address or a port in use ends the group with an error
            // naming http.listen (its file and line when it came from the file).
            services.append(.init(service: HTTPService(address: try config.http.address(), daemon: daemon,
                                                       locate: { [options] in options.locate($0) }, logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        shutdown.group = group
        try await group.run()
        // A reader that stopped reading must not hold up the exit; the sink counts and logs the
        // lines it leaves unwritten.
        let allWritten = stdoutSink?.finish(timeout: .seconds(1)) ?? true
        // Records that could not be written are a failure; EPIPE (the reader left) is not.
        if let error = stdoutSink?.writeError, !error.isBrokenPipe { throw ExitCode(1) }
        // A file or a pipe's records wait for the reader, so that none is lost: leaving some
        // unwritten is a failure. A live input's are dropped by design when the reader lags.
        if !allWritten, !config.input.isLive { throw ExitCode(1) }
    }

    /// The socket systemd passed (socket activation), or the configured path and mode.
    private func socketListener(path: String, mode: String) throws -> UnixSocketServer.Listener {
        if let fd = try SystemdSocketActivation.listeningSocket() { return .fileDescriptor(fd) }
        // The configuration's validation checked that the mode parses.
        return .path(path, mode: mode_t(mode, radix: 8)!)
    }
}

/// Lets a callback on another thread (standard output closed) stop the service group.
final class ShutdownTrigger: @unchecked Sendable {
    var group: ServiceGroup?

    func fire() {
        guard let group else { return }
        Task { await group.triggerGracefulShutdown() }
    }
}
