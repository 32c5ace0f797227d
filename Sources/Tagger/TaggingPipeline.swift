import AudioInput
import Foundation
import Logging
import MAST

/// The daemon's running pipeline:
///
///     AudioSource ──► RingBuffer ──► feature thread ──► StreamTagger ──► RecordSink, RecordListener
///     (capture thread)               (fbank, windows,   (inference thread)
///                                     level meter)
///
/// The input (source, ring, feature thread) lives as long as the pipeline. What follows it, the
/// `Stage` (configuration, model, tagger), can be replaced while it runs (`replaceStage`): the
/// feature thread finishes the old tagger (its last window, its open events) and hands the
/// stream on to the new one at the same sample, so a reload that keeps the input neither
/// restarts a file nor resets stream time.
///
/// `stop()` (shutdown, a reload that changes the input) and the end of the input both end with
/// every open event closed and written.
public final class TaggingPipeline: @unchecked Sendable {
    /// What a reload may replace without touching the input.
    struct Stage {
        let config: TaggerConfig
        let model: Model
        let tagger: StreamTagger
    }

    /// The input settings this pipeline was built with; a reload with equal ones keeps the input.
    public let input: TaggerConfig.Input
    /// The rate the input delivers (the first model's): a new model must take the same rate for
    /// the input to stay.
    public let sampleRate: Int
    private let source: AudioSource
    private let ring: RingBuffer
    private let sink: RecordSink
    private let listener: RecordListener?
    private let windowObserver: WindowObserver?
    private let frameObserver: FrameObserver?
    /// Saves events' audio (`clips.directory` set); lives as long as the input, like the ring.
    private let clips: ClipRecorder?
    private let logger: Logger
    /// The input's level, for whoever reports it (MQTT's `level`).
    public let levelMeter: LevelMeter
    private let featureThread = WorkerThread(name: "mast-features")
    private let state = NSCondition()
    // Guarded by `state`:
    private var stage: Stage
    /// Handed to the feature thread by `replaceStage`, adopted between two reads of the ring.
    private var pendingStage: Stage?
    private var started = false
    private var stopRequested = false
    private var featureThreadDone = false
    private var inputEndedOnItsOwn = false
    private var lastProgress = DispatchTime.now()
    /// Windows processed and dropped by taggers already replaced, so the counters span reloads.
    private var retiredWindows = (processed: 0, dropped: 0)

    /// Builds the source and the tagger; nothing reads the input until `start()`. A pipeline
    /// that is not started must be `discard`ed.
    public init(config: TaggerConfig, model: Model, sink: RecordSink, listener: RecordListener? = nil,
                windowObserver: WindowObserver? = nil, frameObserver: FrameObserver? = nil, logger: Logger) throws {
        let rate = model.fbank.sampleRate
        // From hearing a sample to deciding on an event that ends there: a window, the windows
        // queued before the model, and a hop.
        let delay = Double(model.config.frames * model.fbank.frameShift) / Double(rate)
            + Double(config.windows.queue + 1) * config.windows.hop
        let clips = config.clips.isEnabled
            ? ClipRecorder(settings: config.clips, sampleRate: rate, delaySeconds: delay, logger: logger) : nil
        // Nothing built here starts a thread (that is `start()`), so a failed build leaves nothing running.
        let tagger = try Self.tagger(config: config, model: model, sink: sink, listener: listener,
                                     windowObserver: windowObserver, frameObserver: frameObserver, clips: clips)
        self.clips = clips
        source = try Self.source(config.input, sampleRate: tagger.sampleRate, logger: logger)
        // Within `Limits.bufferSeconds` × a model rate of at most 96 kHz: a few hundred megabytes at most.
        ring = try RingBuffer(capacity: Int(config.input.bufferSeconds * Double(tagger.sampleRate)))
        input = config.input
        sampleRate = tagger.sampleRate
        stage = Stage(config: config, model: model, tagger: tagger)
        self.sink = sink
        self.listener = listener
        self.windowObserver = windowObserver
        self.frameObserver = frameObserver
        self.logger = logger
        levelMeter = LevelMeter(sampleRate: tagger.sampleRate)
    }

    /// The tagger a configuration asks for, writing to `sink` and `listener`.
    private static func tagger(config: TaggerConfig, model: Model, sink: RecordSink, listener: RecordListener?,
                               windowObserver: WindowObserver?, frameObserver: FrameObserver?, clips: ClipRecorder?) throws -> StreamTagger {
        var settings = try StreamTagger.Settings(config: config)
        // An input that is not live waits for the model rather than drop windows.
        if !config.input.isLive { settings.backpressure = .wait }
        let encoder = RecordEncoder(format: config.output.format, origin: config.origin)
        return try StreamTagger(model: model, settings: settings, observe: windowObserver.map { o in { o.window($0) } },
                                observeFrame: frameObserver.map { o in { o.frame($0) } }) { record in
            var record = record
            // The clip's path goes into the event record; the file follows once the post-roll is heard.
            if let clips, case .event(var event) = record, let path = clips.schedule(event) {
                event.clip = path
                record = .event(event)
            }
            let line = encoder.line(record)
            sink.write(line: line)
            listener?.receive(record, jsonLine: encoder.format == .jsonl ? line : nil)
        }
    }

    public var config: TaggerConfig { state.withLock { stage.config } }
    public var model: Model { state.withLock { stage.model } }

    /// Replaces the configuration and model after the input (which must be `input` at
    /// `sampleRate`): builds the new tagger (throwing, with nothing changed, when the
    /// configuration does not fit the model), then waits until the feature thread has finished
    /// the old one, started the new one and passed the stream on. Returns false when the input
    /// ended first (the new tagger never started: it holds no thread).
    public func replaceStage(config: TaggerConfig, model: Model) throws -> Bool {
        precondition(config.input == input && model.fbank.sampleRate == sampleRate, "the input must stay as it is")
        let next = Stage(config: config, model: model,
                         tagger: try Self.tagger(config: config, model: model, sink: sink, listener: listener,
                                                 windowObserver: windowObserver, frameObserver: frameObserver, clips: clips))
        return state.withLock {
            guard !featureThreadDone else { return false }
            pendingStage = next
            while pendingStage != nil && !featureThreadDone { state.wait() }
            return stage.tagger === next.tagger
        }
    }

    /// The input named by `input.source`.
    static func source(_ input: TaggerConfig.Input, sampleRate: Int, logger: Logger) throws -> AudioSource {
        switch input.source {
        case .alsa(let device):
            return ALSACapture(configuration: .init(
                device: device, outputRate: sampleRate, requestedRate: input.rate, channelSelection: input.channel,
                watchdogSeconds: input.watchdogSeconds, initialBackoffSeconds: input.retryInitialSeconds,
                maxBackoffSeconds: input.retryMaxSeconds), logger: logger)
        case .wav(let path):
            // Paced reading hands over 10 ms at a time, as a capture device's period would.
            return WAVFileSource(path: path, options: .init(channelSelection: input.channel, outputRate: sampleRate,
                                                            realTime: input.realtime, chunkFrames: input.realtime ? 160 : 4096),
                                 logger: logger)
        case .stdin:
            let reader = try RawPCMReader(fileDescriptor: STDIN_FILENO, format: AudioFormat(
                sampleFormat: input.stdinFormat, sampleRate: input.stdinRate, channels: input.stdinChannels), name: "stdin", logger: logger)
            return RawPCMSource(reader: reader, options: .init(channelSelection: input.channel, outputRate: sampleRate,
                                                               backpressure: input.isLive ? .drop : .wait),
                                logger: logger)
        }
    }

    /// Opens the input, then starts the inference, clip and feature threads. When it throws,
    /// the pipeline is discarded.
    public func start() throws {
        do {
            try source.start(into: ring)
        } catch {
            discard()
            throw error
        }
        state.withLock { started = true }
        state.withLock { stage.tagger }.start()
        clips?.start()
        featureThread.start { [self] in
            drain(ring, into: { state.withLock { stage.tagger } }, shouldStop: checkIn) { samples, position in
                levelMeter.add(samples)
                clips?.add(samples, at: position)
            }
            state.withLock { stage.tagger }.finish()
            clips?.finish()  // after the last events: their clips, with the audio there is
            state.withLock {
                inputEndedOnItsOwn = !stopRequested
                pendingStage = nil  // never started: nothing to stop
                featureThreadDone = true
                state.broadcast()
            }
        }
        let current = state.withLock { stage }
        logger.info("tagging", metadata: ["input": "\(source.name)", "model": "\(current.model.source)",
                                          "hop": "\(current.config.windows.hop)", "window_frames": "\(current.model.config.frames)"])
    }

    /// The feature thread between two reads of the ring: reports progress, adopts a pending
    /// stage, and says whether to stop.
    private func checkIn() -> Bool {
        let (stop, pending, current) = state.withLock {
            lastProgress = .now()
            return (stopRequested, pendingStage, stage)
        }
        guard let pending else { return stop }
        current.tagger.finish()  // its last window and its open events, before the new tagger's first
        pending.tagger.start()
        pending.tagger.skip(to: current.tagger.nextSample)
        state.withLock {
            retiredWindows.processed += current.tagger.processedWindows
            retiredWindows.dropped += current.tagger.droppedWindows
            stage = pending
            pendingStage = nil
            state.broadcast()
        }
        return stop
    }

    /// Stops the input, finishes what is buffered and closes open events. Returns when done.
    public func stop() {
        let wasStarted = state.withLock {
            stopRequested = true
            return started
        }
        guard wasStarted else { return discard() }
        source.stop()
        waitUntilFinished()
    }

    /// Lets go of a pipeline that never started (it holds no thread): marks it finished.
    private func discard() {
        state.withLock {
            featureThreadDone = true
            state.broadcast()
        }
    }

    /// Blocks until the input has ended (or `stop()`), and every record is out.
    public func waitUntilFinished() {
        // The flag, not only the join: a `stop()` racing `start()` may come before the thread exists.
        state.withLock { while !featureThreadDone { state.wait() } }
        featureThread.join()
    }

    public var isFinished: Bool { state.withLock { featureThreadDone } }

    /// The feature thread checked in within `seconds` (the systemd watchdog's question).
    public func isAlive(within seconds: Double) -> Bool {
        state.withLock {
            featureThreadDone || Double(DispatchTime.now().uptimeNanoseconds - lastProgress.uptimeNanoseconds) / 1e9 < seconds
        }
    }

    /// Windows dropped (the model fell behind) and samples dropped (the feature stage fell
    /// behind) so far, over every stage this input has fed.
    public var drops: (windows: Int, samples: Int) {
        let (tagger, retired) = state.withLock { (stage.tagger, retiredWindows) }
        return (retired.dropped + tagger.droppedWindows, Int(ring.overrunSamples))
    }

    /// The counters, over every stage this input has fed.
    public var counters: PipelineCounters {
        let (tagger, retired) = state.withLock { (stage.tagger, retiredWindows) }
        var counters = PipelineCounters()
        counters.audioSeconds = Double(tagger.nextSample) / Double(tagger.sampleRate)
        counters.windows = retired.processed + tagger.processedWindows
        counters.droppedWindows = retired.dropped + tagger.droppedWindows
        counters.overrunSamples = Int(ring.overrunSamples)
        counters.xruns = Int(source.statistics.xruns.load(ordering: .relaxed))
        counters.reopens = Int(source.statistics.reopens.load(ordering: .relaxed))
        if let clips { (counters.clipsWritten, counters.clipsFailed) = clips.counts }
        return counters
    }

    /// Counters for logs and systemd's STATUS=, over every stage this input has fed.
    public var status: String {
        let c = counters
        return String(format: "%.0f s of audio, %d windows, %d dropped windows, %d overrun samples, %d xruns, %d reopens",
                      c.audioSeconds, c.windows, c.droppedWindows, c.overrunSamples, c.xruns, c.reopens)
            + (clips == nil ? "" : ", \(c.clipsWritten) clips, \(c.clipsFailed) clips failed")
    }

    /// Why the input is not delivering, for `/health`: the source's last error (a missing
    /// device, a failed read), nil when there is none.
    public var sourceError: AudioInputError? { source.lastError }

    /// Why the input ended by itself, if an error ended it (a truncated file, a failed read);
    /// nil when it ran to its end or was stopped.
    public var inputError: AudioInputError? {
        state.withLock { inputEndedOnItsOwn } ? source.lastError : nil
    }
}
