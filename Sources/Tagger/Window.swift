/// One model input: `frames × melBins` normalised log-mel features (time-major), and where it
/// lies in the stream. Immutable once made; the scheduler hands it to the inference worker.
public struct Window: Sendable {
    /// [frames × melBins]
    public let features: [Float]
    /// First sample of the window's first frame, counted from the start of the stream.
    public let startSample: Int
    /// One past the last sample of the window's last frame (of real audio, for a short segment).
    public let endSample: Int
    /// The level of the window's samples, when the tagger measured it (the feature stage, as it
    /// cuts the window).
    public var level: AudioLevel? = nil
}
