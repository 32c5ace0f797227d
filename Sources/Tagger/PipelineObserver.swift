/// Watches every window's result (scores, level, inference time) from inside the pipeline, for
/// the metrics and the live page. Called on the inference thread; must return at once (copy
/// what is needed under a short lock, never wait for a reader).
public protocol WindowObserver: Sendable {
    func window(_ result: WindowResult)
}

/// Watches every raw log-mel frame (what the model sees, before its normalisation), for the live
/// page's spectrogram. Called on the feature thread 100 times a second; must return at once.
public protocol FrameObserver: Sendable {
    /// One frame of `melBins` raw log-mel energies, 10 ms after the last.
    func frame(_ mel: UnsafeBufferPointer<Float>)
}

/// The counters of a pipeline (or the sum over several, across reloads), as numbers.
public struct PipelineCounters: Equatable, Sendable {
    public var audioSeconds = 0.0
    public var windows = 0
    public var droppedWindows = 0
    public var overrunSamples = 0
    public var xruns = 0
    public var reopens = 0
    public var clipsWritten = 0
    public var clipsFailed = 0

    public init() {}

    public static func + (a: Self, b: Self) -> Self {
        var sum = Self()
        sum.audioSeconds = a.audioSeconds + b.audioSeconds
        sum.windows = a.windows + b.windows
        sum.droppedWindows = a.droppedWindows + b.droppedWindows
        sum.overrunSamples = a.overrunSamples + b.overrunSamples
        sum.xruns = a.xruns + b.xruns
        sum.reopens = a.reopens + b.reopens
        sum.clipsWritten = a.clipsWritten + b.clipsWritten
        sum.clipsFailed = a.clipsFailed + b.clipsFailed
        return sum
    }
}
