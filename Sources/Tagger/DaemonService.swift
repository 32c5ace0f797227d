import Foundation
import Logging
import MAST
import ServiceLifecycle
import UnixSignals

/// `mast-tagger run` as a swift-service-lifecycle `Service`: runs a `TaggingPipeline`, reloads
/// the configuration on SIGHUP, keeps systemd informed, and on graceful shutdown (SIGTERM,
/// SIGINT) stops the input and closes open events before returning.
///
/// A reload is one swap: the new configuration, its model (loaded again only when the file, the
/// path, threads or precision changed) and its tagger are built beside the running ones, and
/// only when all of it is built does anything change; otherwise the error is logged and the
/// running pipeline is untouched. When the input settings are unchanged the input stays and
/// stream time continues; otherwise a new input is started before the old one stops.
///
/// Reloads and shutdown are serialised (`transition`): a reload in progress when SIGTERM
/// arrives completes before shutdown stops the pipeline, and after shutdown has begun no
/// reload starts anything.
public final class DaemonService: Service, @unchecked Sendable {
    /// Reads the configuration (file plus command-line overrides) anew; called at start and on SIGHUP.
    public typealias ConfigurationSource = @Sendable () throws -> TaggerConfig
    /// Loads the model a configuration names, with the configuration's engine options.
    public typealias ModelLoader = @Sendable (TaggerConfig) throws -> Model
    /// Turns an error found while building a pipeline into one that names the file and line
    /// (a `ConfigError` for an unknown class name, found only against the model).
    public typealias ErrorLocator = @Sendable (Error) -> Error

    private let configuration: ConfigurationSource
    private let loadModel: ModelLoader
    private let locate: ErrorLocator
    private let sink: RecordSink
    /// Records, states and levels to a broker when `mqtt.url` is set (beside `sink`).
    public let mqtt: MQTTOutput
    /// Prometheus metrics and what the live page shows; fed only when `observing` (HTTP is on).
    public let metrics = DaemonMetrics()
    public let liveView = LiveView()
    private let observing: Bool
    private let notifier: SystemdNotifier
    private let logger: Logger
    /// Held for the whole of a reload and for shutdown's stop, so the two never interleave.
    private let transition = NSLock()
    private let lock = NSLock()
    // Guarded by `lock`:
    private var pipeline: TaggingPipeline?
    private var shuttingDown = false
    /// The final counters of pipelines a reload replaced (a new input counts from zero).
    private var retired = PipelineCounters()

    public init(configuration: @escaping ConfigurationSource, loadModel: @escaping ModelLoader,
                locate: @escaping ErrorLocator = { $0 }, sink: RecordSink, notifier: SystemdNotifier, logger: Logger,
                observing: Bool = false) {
        self.configuration = configuration
        self.observing = observing
        self.loadModel = loadModel
        self.locate = locate
        self.sink = sink
        self.notifier = notifier
        self.logger = logger
        mqtt = MQTTOutput(logger: logger)
    }

    public func run() async throws {
        // Trapped before READY=1: a SIGHUP sent as soon as systemd reports the service started
        // must reload, not kill it (SIGHUP's default action, which systemd counts as a clean exit).
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let config = try configuration()
        let first: TaggingPipeline
        do {
            let model = try loadModel(config)
            let mqttChange = try mqtt.prepare(config: config, model: model)
            liveView.configure(model: model, eventMinutes: config.http.eventMinutes)
            first = try makePipeline(config: config, model: model)
            mqtt.commit(mqttChange)  // connecting, with the first records queued for it
            try first.start()
        } catch {
            mqtt.stop()
            throw locate(error)
        }
        lock.withLock { pipeline = first }
        try? notifier.ready(status: "tagging \(config.input.source)")

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.reloadOn(hangups) }
                group.addTask { await self.reportHealth() }
                group.addTask { await self.publishLevels() }
                group.addTask { await self.waitForEndOfInput() }
                await group.next()  // the input ended, or shutdown cancelled us
                group.cancelAll()
            }
        } onGracefulShutdown: {
            try? self.notifier.stopping()
            self.shutDown()
        }
        shutDown()  // idempotent: closes open events at the end of input too
        mqtt.stop()  // after the last records: `offline`, then a clean disconnect
        logger.info("stopped", metadata: ["status": "\(status)"])
        if let error = current.inputError { logger.error("input ended early: \(error)") }
    }

    private var current: TaggingPipeline { lock.withLock { pipeline! } }

    /// The running configuration (after the last successful reload); nil until the first
    /// pipeline is built (the model is loading), which the HTTP server may see.
    public var runningConfig: TaggerConfig? { lock.withLock { pipeline }?.config }

    /// A pipeline writing to the sink and MQTT, and, with HTTP on, to the metrics and the live view.
    private func makePipeline(config: TaggerConfig, model: Model) throws -> TaggingPipeline {
        guard observing else { return try TaggingPipeline(config: config, model: model, sink: sink, listener: mqtt, logger: logger) }
        return try TaggingPipeline(config: config, model: model, sink: sink, listener: RecordListeners([mqtt, metrics, liveView]),
                                   windowObserver: WindowObservers([metrics, liveView]), frameObserver: liveView, logger: logger)
    }

    /// The counters of every input this daemon has run, summed.
    public var counters: PipelineCounters {
        let (done, running) = lock.withLock { (self.retired, self.pipeline) }
        return done + (running?.counters ?? PipelineCounters())
    }

    /// Brings the scraped metrics up to date: the pipeline's counters and what the outputs wrote and dropped.
    public func refreshMetrics() {
        metrics.update(counters)
        if let stdout = sink as? StdoutSink {
            metrics.updateOutput("stdout", written: stdout.recordsWritten, dropped: stdout.droppedLines)
        }
        if let socket = sink as? UnixSocketServer {
            metrics.updateOutput("socket", written: socket.recordsWritten, dropped: socket.counters.droppedSlow)
        }
        if let dropped = mqtt.droppedMessages, let published = mqtt.publishedRecords {
            metrics.updateOutput("mqtt", written: published, dropped: dropped)
        }
    }

    /// `/health`: what the systemd watchdog checks (the feature stage checked in), and that audio came.
    public struct Health: Codable, Sendable {
        public var ok: Bool
        /// Why not, when not ok.
        public var reason: String?
        public var input: String
        public var audioSeconds: Double
        public var windows: Int
        public var droppedWindows: Int

        enum CodingKeys: String, CodingKey {
            case ok, reason, input, windows
            case audioSeconds = "audio_seconds", droppedWindows = "dropped_windows"
        }
    }

    public func health() -> Health {
        guard let pipeline = lock.withLock({ pipeline }) else {
            return Health(ok: false, reason: "starting (loading the model)", input: "", audioSeconds: 0, windows: 0, droppedWindows: 0)
        }
        let config = pipeline.config, seconds = config.http.healthSeconds
        var reason: String?
        if pipeline.isFinished {
            reason = "the input ended"
        } else if !pipeline.isAlive(within: seconds) {
            reason = "the feature stage made no progress for \(seconds) s"
        } else if config.input.isLive, !pipeline.levelMeter.heardAudio(within: seconds) {
            reason = "no audio for \(seconds) s" + (pipeline.sourceError.map { " (\($0))" } ?? "")
        }
        let c = counters
        return Health(ok: reason == nil, reason: reason, input: config.input.source.description, audioSeconds: c.audioSeconds,
                      windows: c.windows, droppedWindows: c.droppedWindows)
    }

    /// The pipeline's counters and the sink's losses: STATUS= and the end-of-run summary.
    private var status: String {
        let live = observing ? "\(metrics.liveUpdatesDropped) dropped live page updates" : nil
        return ([current.status, sink.losses] + [mqtt.losses, live].compactMap { $0 }).joined(separator: ", ")
    }

    /// Marks the service as shutting down (no reload starts anything after this), then stops
    /// the running pipeline once any reload in progress has finished.
    func shutDown() {
        lock.withLock { shuttingDown = true }
        transition.withLock { current.stop() }
    }

    private func reloadOn(_ hangups: UnixSignalsSequence) async {
        for await _ in hangups {
            try? notifier.reloading()
            reload()
            try? notifier.ready(status: status)
        }
    }

    /// Builds the new configuration beside the running one and swaps it in whole, or logs why
    /// not and changes nothing.
    func reload() {
        transition.lock()
        defer { transition.unlock() }
        guard !lock.withLock({ shuttingDown }) else {
            logger.notice("not reloaded: shutting down")
            return
        }
        let old = current
        do {
            var config = try configuration()
            noteRestartKeys(old: old.config, new: &config, input: old.input)
            let reused = try reusableModel(of: old, for: config)
            let model = try reused ?? loadModel(config)
            let mqttChange = try mqtt.prepare(config: config, model: model)
            if config.input == old.input && model.fbank.sampleRate == old.sampleRate {
                guard try old.replaceStage(config: config, model: model) else {
                    logger.notice("not reloaded: the input ended first")
                    return
                }
                // After the swap: the live view names the new model's classes (a window of the
                // old model still in flight, of another class count, is left out of `top`).
                liveView.configure(model: model, eventMinutes: config.http.eventMinutes)
                mqtt.commit(mqttChange)
                metrics.reloaded(ok: true)
                logger.notice("configuration reloaded", metadata: ["input": "kept", "model": "\(reused == nil ? "loaded" : "kept")"])
                return
            }
            let next = try makePipeline(config: config, model: model)
            try next.start()  // a failed start discards `next` (its threads end); the old one runs on
            liveView.configure(model: model, eventMinutes: config.http.eventMinutes)
            lock.withLock { pipeline = next }
            old.stop()
            lock.withLock { retired = retired + old.counters }
            mqtt.commit(mqttChange)
            metrics.reloaded(ok: true)
            logger.notice("configuration reloaded", metadata: ["input": "\(config.input.source)"])
        } catch {
            metrics.reloaded(ok: false)
            logger.error("configuration not reloaded, keeping the running one: \(locate(error))")
        }
    }

    /// The running model when the new configuration asks for the same one: the same path (and
    /// the file there unchanged since it was read), threads and precision.
    private func reusableModel(of pipeline: TaggingPipeline, for config: TaggerConfig) throws -> Model? {
        let running = pipeline.model, oldConfig = pipeline.config
        guard config.model == oldConfig.model, try config.engineOptions() == running.options else { return nil }
        guard let stamp = running.fileStamp, FileStamp(path: running.source) == stamp else {
            logger.notice("\(running.source) changed on disk; loading it again")
            return nil
        }
        return running
    }

    /// Logs the keys only a restart applies, and keeps their running values in `new`: the output
    /// is bound once (the socket, or standard output), and standard input cannot be split
    /// between an old and a new reader.
    private func noteRestartKeys(old: TaggerConfig, new: inout TaggerConfig, input: TaggerConfig.Input) {
        if new.output.target != old.output.target {
            logger.warning("output.target changed to \(new.output.target): takes effect at restart; still writing to \(old.output.target)")
            new.output.target = old.output.target
        }
        if new.http.listen != old.http.listen {
            logger.warning("http.listen changed to '\(new.http.listen)': takes effect at restart; still serving '\(old.http.listen)'")
            new.http.listen = old.http.listen
        }
        if new.clips != old.clips {
            logger.warning("clips settings changed: they take effect at restart; clips go on as before")
            new.clips = old.clips
        }
        if new.output.socketMode != old.output.socketMode {
            logger.warning("output.socket_mode changed: takes effect at restart")
            new.output.socketMode = old.output.socketMode
        }
        if new.output.target == .stdout, new.input.isLive != old.input.isLive {
            // The sink is made once, with the policy the first input asked for (RunCommand).
            logger.warning("standard output keeps the policy chosen at start (\(old.input.isLive ? "drop lines a slow reader can't take, for live input" : "wait for its reader")); the new input is \(new.input.isLive ? "live" : "not live"): restart to change that")
        }
        if case .stdin = new.input.source, case .stdin = input.source, new.input != input {
            logger.warning("input settings of stdin changed: they take effect at restart; the input is kept")
            new.input = input
        }
    }

    /// WATCHDOG=1 while the feature thread is making progress; STATUS= with the counters; a
    /// warning when windows or samples were dropped since the last look (so at most one per
    /// interval, however many drops).
    private func reportHealth() async {
        let interval = notifier.watchdogInterval ?? .seconds(10)
        var reported: (pipeline: ObjectIdentifier?, windows: Int, samples: Int) = (nil, 0, 0)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let pipeline = current
            let drops = pipeline.drops
            if reported.pipeline != ObjectIdentifier(pipeline) { reported = (ObjectIdentifier(pipeline), 0, 0) }
            if drops.windows > reported.windows || drops.samples > reported.samples {
                logger.warning("dropped \(drops.windows - reported.windows) windows (the model fell behind) and \(drops.samples - reported.samples) samples (the feature stage fell behind) in the last \(interval)")
                reported = (ObjectIdentifier(pipeline), drops.windows, drops.samples)
            }
            if notifier.watchdogInterval != nil, pipeline.isAlive(within: 2 * Double(interval.components.seconds) + 1) {
                try? notifier.watchdog()
            }
            try? notifier.status(status)
        }
    }

    /// Hands the input's level to MQTT every `mqtt.level_seconds` while MQTT is on.
    private func publishLevels() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(current.config.mqtt.levelSeconds))
            guard let publisher = mqtt.publisher, let level = current.levelMeter.take() else { continue }
            publisher.publish(level: level)
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
