import Foundation
import Logging
import MAST
import ServiceLifecycle
import UnixSignals

/// `mast-tagger run` as a swift-service-lifecycle `Service`: runs a `TaggingPipeline`, reloads
/// the configuration on SIGHUP, keeps systemd informed, and on graceful shutdown (SIGTERM,
/// SIGINT) stops the input and closes open events before returning.
///
/// A reload builds the new configuration completely (file, model, input) before touching the
/// running pipeline; if any of it fails, the error is logged and the old pipeline keeps running.
public final class DaemonService: Service, @unchecked Sendable {
    /// Reads the configuration (file plus command-line overrides) anew; called at start and on SIGHUP.
    public typealias ConfigurationSource = @Sendable () throws -> TaggerConfig
    /// Loads the model a configuration names (threads first, see `Engine.setThreadCount`).
    public typealias ModelLoader = @Sendable (TaggerConfig) throws -> Model

    private let configuration: ConfigurationSource
    private let loadModel: ModelLoader
    private let sink: RecordSink
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let lock = NSLock()
    private var pipeline: TaggingPipeline?  // guarded by `lock`

    public init(configuration: @escaping ConfigurationSource, loadModel: @escaping ModelLoader, sink: RecordSink,
                notifier: SystemdNotifier, logger: Logger) {
        self.configuration = configuration
        self.loadModel = loadModel
        self.sink = sink
        self.notifier = notifier
        self.logger = logger
    }

    public func run() async throws {
        let config = try configuration()
        let first = try TaggingPipeline(config: config, model: loadModel(config), sink: sink, logger: logger)
        try first.start()
        lock.withLock { pipeline = first }
        try? notifier.ready(status: "tagging \(config.input.source)")

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.reloadOnHangup() }
                group.addTask { await self.reportHealth() }
                group.addTask { await self.waitForEndOfInput() }
                await group.next()  // the input ended, or shutdown cancelled us
                group.cancelAll()
            }
        } onGracefulShutdown: {
            try? self.notifier.stopping()
            self.current.stop()
        }
        current.stop()  // idempotent: closes open events at the end of input too
        logger.info("stopped", metadata: ["status": "\(current.status)"])
        if let error = current.inputError { logger.error("input ended early: \(error)") }
    }

    private var current: TaggingPipeline { lock.withLock { pipeline! } }

    private func reloadOnHangup() async {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals {
            try? notifier.reloading()
            reload()
            try? notifier.ready(status: current.status)
        }
    }

    /// Builds the new pipeline fully before stopping the old one; a configuration that fails to
    /// load or build leaves the old one running. (The new one is installed before the old one
    /// stops, so the old one's end is not taken for the end of the input.)
    func reload() {
        let old = current
        let next: TaggingPipeline
        do {
            let config = try configuration()
            let sameModel = config.model == old.config.model && config.threads == old.config.threads
            let model = sameModel ? old.model : try loadModel(config)
            next = try TaggingPipeline(config: config, model: model, sink: sink, logger: logger)
        } catch {
            logger.error("configuration not reloaded, keeping the running one: \(error)")
            return
        }
        lock.withLock { pipeline = next }
        old.stop()
        do {
            try next.start()
            logger.notice("configuration reloaded")
        } catch {
            logger.error("new input failed to start (\(error)); going back to the previous configuration")
            do {
                let restored = try TaggingPipeline(config: old.config, model: old.model, sink: sink, logger: logger)
                lock.withLock { pipeline = restored }
                try restored.start()
            } catch {
                logger.critical("the previous input failed to start again: \(error)")
            }
        }
    }

    /// WATCHDOG=1 while the feature thread is making progress; STATUS= with the counters.
    private func reportHealth() async {
        let interval = notifier.watchdogInterval ?? .seconds(10)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let pipeline = current
            if notifier.watchdogInterval != nil, pipeline.isAlive(within: 2 * Double(interval.components.seconds) + 1) {
                try? notifier.watchdog()
            }
            try? notifier.status(pipeline.status)
        }
    }

    /// Returns when the running pipeline has finished: its input ended, or shutdown stopped it.
    private func waitForEndOfInput() async {
        while !Task.isCancelled {
            if current.isFinished { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
