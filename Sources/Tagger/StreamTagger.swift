import AudioInput
import Features
import Foundation
import MAST

/// The pipeline from 16 kHz mono samples to records:
///
///     push(samples) ─► StreamingFbank ─► WindowScheduler ─► InferenceWorker ─► EventDecoder ─► emit
///        (caller's thread: the feature stage)                (worker thread)
///
/// `emit` is called on the worker thread, in stream order; it must not block.
public final class StreamTagger: @unchecked Sendable {
    public struct Settings: Sendable {
        /// Frames (10 ms) between window starts.
        public var hopFrames: Int
        /// Windows that may wait for the model before the oldest is dropped (live) or the caller waits (files).
        public var queueCapacity = 2
        public var backpressure = Backpressure.drop
        /// With k > 0, a `tags` record with the k best classes of every window.
        public var tagsTopK = 0
        /// Classes below this probability are left out of `tags` records.
        public var tagsMinScore: Float = 0
        public var decoder = EventDecoderConfig()
        /// Keep each window's pooled embedding in its `WindowResult` (for `embed`).
        public var keepEmbeddings = false

        public init(hopFrames: Int) { self.hopFrames = hopFrames }
    }

    public let model: Model
    public let sampleRate: Int
    private let fbank: StreamingFbank
    private let scheduler: WindowScheduler
    private let worker: InferenceWorker
    private let decoder: EventDecoder
    private let emit: (Record) -> Void
    private let settings: Settings
    /// Per class, the highest probability of any window so far (worker thread; read after finish).
    public private(set) var highestScores: [Float]
    /// Absolute stream position of the next sample `push` receives.
    public private(set) var nextSample = 0

    /// Sees every window's result before the decoder does (worker thread).
    private let observe: ((WindowResult) -> Void)?
    /// Sees every raw log-mel frame (the feature stage's thread, the caller of `push`).
    private let observeFrame: ((UnsafeBufferPointer<Float>) -> Void)?
    /// Per 10 ms block, the audio's level, for each window's `level`.
    private let levels: BlockLevels

    public init(model: Model, settings: Settings, observe: ((WindowResult) -> Void)? = nil,
                observeFrame: ((UnsafeBufferPointer<Float>) -> Void)? = nil,
                emit: @escaping (Record) -> Void) throws {
        let options = model.fbank
        let fbank = try StreamingFbank(options: options)
        precondition(settings.hopFrames >= 1, "the hop is at least one frame")
        self.model = model
        self.fbank = fbank
        self.settings = settings
        self.emit = emit
        self.observe = observe
        self.observeFrame = observeFrame
        sampleRate = options.sampleRate
        // A window's blocks and two more: its last frame reaches frameLength − frameShift past its last shift.
        levels = BlockLevels(blockSamples: options.frameShift, capacity: model.config.frames + 2 + options.frameLength / options.frameShift,
                             sampleRate: options.sampleRate)
        scheduler = WindowScheduler(length: model.config.frames, hop: settings.hopFrames, melBins: options.numMelBins,
                                    frameShift: options.frameShift, frameLength: options.frameLength,
                                    mean: model.normalization.mean, std: model.normalization.std)
        let classes = model.classes.map { (name: $0.name, id: $0.id) }
        let decoder = try EventDecoder(config: settings.decoder, classes: classes, sampleRate: options.sampleRate,
                                       hopSamples: settings.hopFrames * options.frameShift)
        self.decoder = decoder
        highestScores = [Float](repeating: 0, count: model.classes.count)
        worker = InferenceWorker(model: model, capacity: settings.queueCapacity, backpressure: settings.backpressure,
                                 keepEmbeddings: settings.keepEmbeddings)
    }

    /// Starts the inference thread; call before the first `push`. A tagger that is never
    /// started holds no thread (a reload that fails after building one leaks nothing).
    public func start() {
        worker.start { [unowned self] in handle($0) }
    }

    /// Feeds the next samples of the stream (mono, at the model's sample rate).
    public func push(_ samples: UnsafeBufferPointer<Float>) {
        levels.add(samples, at: nextSample)  // first: a window cut in this push includes these samples
        fbank.push(samples) { frame in
            observeFrame?(frame)
            if let window = scheduler.push(frame: frame) { submit(window) }
        }
        nextSample += samples.count
    }

    /// Hands a window to the model with its level.
    private func submit(_ window: Window) {
        var window = window
        window.level = levels.level(from: window.startSample, to: window.endSample)
        worker.submit(window)
    }

    /// Samples were lost upstream: the stream continues at `sample`. Windows never span the gap.
    public func skip(to sample: Int) {
        precondition(sample >= nextSample, "the stream only moves forward")
        guard sample > nextSample else { return }
        if let window = scheduler.flush() { submit(window) }
        fbank.reset()
        scheduler.restart(at: sample)
        nextSample = sample
    }

    /// End of input or shutdown: the last window, every pending result, and every open event.
    public func finish() {
        if let window = scheduler.flush() { submit(window) }
        worker.finish()
        decoder.flush().forEach(emit)
    }

    public var droppedWindows: Int { worker.droppedWindows }
    public var processedWindows: Int { worker.processedWindows }

    /// The `count` classes with the highest window probability so far.
    public func topClasses(_ count: Int) -> [Record.Label] {
        Self.top(highestScores, count: count, minScore: 0, classes: model.classes)
    }

    private func handle(_ result: WindowResult) {
        observe?(result)
        for (i, p) in result.probabilities.enumerated() where p > highestScores[i] { highestScores[i] = p }
        if settings.tagsTopK > 0 {
            let seconds = { (sample: Int) in Double(sample) / Double(self.sampleRate) }
            emit(.tags(.init(start: seconds(result.startSample), end: seconds(result.endSample),
                             labels: Self.top(result.probabilities, count: settings.tagsTopK,
                                              minScore: settings.tagsMinScore, classes: model.classes),
                             level: result.level)))
        }
        decoder.process(probabilities: result.probabilities, startSample: result.startSample,
                        endSample: result.endSample).forEach(emit)
    }

    static func top(_ scores: [Float], count: Int, minScore: Float, classes: [ClassLabel]) -> [Record.Label] {
        topIndices(of: scores, count: count).filter { scores[$0] >= minScore }
            .map { Record.Label(label: classes[$0].name, id: classes[$0].id, score: scores[$0]) }
    }
}
