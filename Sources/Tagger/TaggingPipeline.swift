import AudioInput
import Foundation
import Logging
import MAST

/// One running configuration of the daemon:
///
///     AudioSource ──► RingBuffer ──► feature thread ──► StreamTagger ──► RecordSink
///     (capture thread)               (fbank, windows)   (inference thread)
///
/// `stop()` (shutdown, reload) and the end of the input both end with every open event closed
/// and written.
public final class TaggingPipeline: @unchecked Sendable {
    public let model: Model
    public let config: TaggerConfig
    private let source: AudioSource
    private let ring: RingBuffer
    private let tagger: StreamTagger
    private let logger: Logger
    private let state = NSCondition()
    // Guarded by `state`:
    private var stopRequested = false
    private var featureThreadDone = false
    private var inputEndedOnItsOwn = false
    private var lastProgress = DispatchTime.now()

    /// Builds the source and the tagger; nothing runs until `start()`.
    public init(config: TaggerConfig, model: Model, sink: RecordSink, logger: Logger) throws {
        self.config = config
        self.model = model
        self.logger = logger
        var settings = try StreamTagger.Settings(config: config)
        // A file read as fast as possible is not live: wait for the model rather than drop windows.
        if case .wav = config.input.source, !config.input.realtime { settings.backpressure = .block }
        let encoder = RecordEncoder(format: config.output.format)
        tagger = try StreamTagger(model: model, settings: settings) { sink.write(line: encoder.line($0)) }
        source = try Self.source(config.input, sampleRate: tagger.sampleRate, logger: logger)
        // Within `Limits.bufferSeconds` × a model rate of at most 96 kHz: a few hundred megabytes at most.
        ring = try RingBuffer(capacity: Int(config.input.bufferSeconds * Double(tagger.sampleRate)))
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
            return RawPCMSource(reader: reader, options: .init(channelSelection: input.channel, outputRate: sampleRate), logger: logger)
        }
    }

    /// Opens the input and starts the feature thread.
    public func start() throws {
        try source.start(into: ring)
        let thread = Thread { [self] in
            drain(ring, into: tagger) {
                state.withLock {
                    lastProgress = .now()
                    return stopRequested
                }
            }
            tagger.finish()
            state.withLock {
                inputEndedOnItsOwn = !stopRequested
                featureThreadDone = true
                state.broadcast()
            }
        }
        thread.name = "mast-features"
        thread.start()
        logger.info("tagging", metadata: ["input": "\(source.name)", "model": "\(model.source)",
                                          "hop": "\(config.windows.hop)", "window_frames": "\(model.config.frames)"])
    }

    /// Stops the input, finishes what is buffered and closes open events. Returns when done.
    public func stop() {
        state.withLock { stopRequested = true }
        source.stop()
        waitUntilFinished()
    }

    /// Blocks until the input has ended (or `stop()`), and every record is out.
    public func waitUntilFinished() {
        state.withLock { while !featureThreadDone { state.wait() } }
    }

    public var isFinished: Bool { state.withLock { featureThreadDone } }

    /// The feature thread checked in within `seconds` (the systemd watchdog's question).
    public func isAlive(within seconds: Double) -> Bool {
        state.withLock {
            featureThreadDone || Double(DispatchTime.now().uptimeNanoseconds - lastProgress.uptimeNanoseconds) / 1e9 < seconds
        }
    }

    /// Counters for logs and systemd's STATUS=.
    public var status: String {
        let audio = Double(tagger.nextSample) / Double(tagger.sampleRate)
        return String(format: "%.0f s of audio, %d windows, %d dropped windows, %d overrun samples, %d xruns, %d reopens",
                      audio, tagger.processedWindows, tagger.droppedWindows, Int(ring.overrunSamples),
                      Int(source.statistics.xruns.load(ordering: .relaxed)),
                      Int(source.statistics.reopens.load(ordering: .relaxed)))
    }

    /// Why the input ended by itself, if an error ended it (a truncated file, a failed read);
    /// nil when it ran to its end or was stopped.
    public var inputError: AudioInputError? {
        state.withLock { inputEndedOnItsOwn } ? source.lastError : nil
    }
}
