import Features

/// Cuts the stream of fbank frames into overlapping model windows: one every `hop` frames, each
/// `length` frames long, normalised as the model expects.
///
/// Frame `t` of a continuous segment covers samples `origin + t·shift ..< origin + t·shift + frameLength`.
/// After a discontinuity (audio dropped upstream) call `restart(at:)`: windows never span a gap,
/// and their sample positions stay exact.
public final class WindowScheduler {
    public let length: Int
    public let hop: Int
    private let melBins: Int
    private let frameShift: Int
    private let frameLength: Int
    private let normalization: (mean: Float, std: Float)

    /// The last `length` frames, oldest first once `framesInSegment ≥ length` (a ring).
    private var history: [Float]
    private var framesInSegment = 0
    private var origin = 0
    /// Frames of this segment not yet covered by an emitted window's end.
    private var lastEmittedEnd = 0

    public init(length: Int, hop: Int, melBins: Int, frameShift: Int, frameLength: Int, mean: Float, std: Float) {
        precondition(length > 0 && hop > 0 && melBins > 0)
        self.length = length
        self.hop = hop
        self.melBins = melBins
        self.frameShift = frameShift
        self.frameLength = frameLength
        self.normalization = (mean, std)
        history = [Float](repeating: 0, count: length * melBins)
    }

    /// Starts a new continuous segment whose first sample is `sample` in the stream.
    public func restart(at sample: Int) {
        framesInSegment = 0
        lastEmittedEnd = 0
        origin = sample
    }

    /// Adds one frame ([melBins] raw log-mel); returns a window when one is due.
    public func push(frame: UnsafeBufferPointer<Float>) -> Window? {
        precondition(frame.count == melBins)
        let slot = framesInSegment % length
        history.withUnsafeMutableBufferPointer { history in
            for m in 0 ..< melBins { history[slot * melBins + m] = frame[m] }
        }
        framesInSegment += 1
        guard framesInSegment >= length, (framesInSegment - length) % hop == 0 else { return nil }
        return makeWindow(lastFrame: framesInSegment, available: length)
    }

    /// At the end of a segment: a window over the frames the regular windows have not reached
    /// (aligned to the end), or, when the segment is shorter than one window, the whole segment
    /// repeated to fill the window (so the model sees only real audio, as PANNs pads short
    /// clips; zero padding reads as a loud, flat sound to a model that never saw it).
    /// Nil when everything is covered.
    public func flush() -> Window? {
        guard framesInSegment > lastEmittedEnd else { return nil }
        return makeWindow(lastFrame: framesInSegment, available: min(framesInSegment, length))
    }

    /// The window of the `available` frames ending at segment frame `lastFrame`, repeated to `length`.
    private func makeWindow(lastFrame: Int, available: Int) -> Window {
        var features = [Float](repeating: 0, count: length * melBins)
        let firstFrame = lastFrame - available
        history.withUnsafeBufferPointer { history in
            features.withUnsafeMutableBufferPointer { out in
                for i in 0 ..< length {
                    let slot = (firstFrame + i % available) % length
                    for m in 0 ..< melBins { out[i * melBins + m] = history[slot * melBins + m] }
                }
                normalizeFeatures(out, mean: normalization.mean, std: normalization.std)
            }
        }
        lastEmittedEnd = lastFrame
        let start = origin + firstFrame * frameShift
        return Window(features: features, startSample: start,
                      endSample: origin + (lastFrame - 1) * frameShift + frameLength)
    }
}
