/// The parameters of a Kaldi log-mel filterbank, as `torchaudio.compliance.kaldi.fbank` takes them.
///
/// A model file carries these in its metadata (JSON, snake_case keys), so the features at inference
/// are computed exactly as they were in training. The defaults are AST's front end:
/// `fbank(htk_compat=True, sample_frequency=16000, use_energy=False, window_type='hanning',
/// num_mel_bins=128, dither=0.0, frame_shift=10)`.
///
/// Fixed, not options: `dither = 0` (features must be deterministic), `snip_edges = True` (only
/// frames that lie wholly inside the signal, so a stream never has to look back or ahead),
/// `use_energy = False`, `use_power = True`, `use_log_fbank = True`, no VTLN.
public struct FbankOptions: Codable, Equatable, Sendable {
    /// Frame weighting applied after DC removal and preemphasis (Kaldi's `window_type`).
    public enum WindowType: String, Codable, Sendable, CaseIterable {
        /// `0.5 - 0.5 cos(2πn / (L-1))` (torch.hann_window, periodic=False).
        case hanning
        /// `0.54 - 0.46 cos(2πn / (L-1))`.
        case hamming
        /// Kaldi's default: the Hanning window raised to the power 0.85.
        case povey
        /// All ones.
        case rectangular
    }

    /// Samples per second of the input waveform.
    public var sampleRate: Int
    /// Number of triangular mel filters, the width of one output frame.
    public var numMelBins: Int
    /// Frame length in milliseconds (25 → 400 samples at 16 kHz).
    public var frameLengthMs: Double
    /// Frame shift in milliseconds (10 → 160 samples at 16 kHz).
    public var frameShiftMs: Double
    /// Lower edge of the first mel filter in Hz.
    public var lowFreq: Double
    /// Upper edge of the last mel filter in Hz; a value <= 0 is an offset from the Nyquist frequency.
    public var highFreq: Double
    /// Preemphasis coefficient p: `x[i] -= p * x[i-1]`, `x[0] -= p * x[0]`.
    public var preemphasis: Double
    public var windowType: WindowType
    /// Subtract each frame's mean before preemphasis.
    public var removeDCOffset: Bool
    /// Zero-pad each frame to the next power of two before the FFT (400 → 512).
    public var roundToPowerOfTwo: Bool

    enum CodingKeys: String, CodingKey {
        case sampleRate = "sample_rate"
        case numMelBins = "num_mel_bins"
        case frameLengthMs = "frame_length_ms"
        case frameShiftMs = "frame_shift_ms"
        case lowFreq = "low_freq"
        case highFreq = "high_freq"
        case preemphasis
        case windowType = "window_type"
        case removeDCOffset = "remove_dc_offset"
        case roundToPowerOfTwo = "round_to_power_of_two"
    }

    public init(
        sampleRate: Int = 16000,
        numMelBins: Int = 128,
        frameLengthMs: Double = 25,
        frameShiftMs: Double = 10,
        lowFreq: Double = 20,
        highFreq: Double = 0,
        preemphasis: Double = 0.97,
        windowType: WindowType = .hanning,
        removeDCOffset: Bool = true,
        roundToPowerOfTwo: Bool = true
    ) {
        self.sampleRate = sampleRate
        self.numMelBins = numMelBins
        self.frameLengthMs = frameLengthMs
        self.frameShiftMs = frameShiftMs
        self.lowFreq = lowFreq
        self.highFreq = highFreq
        self.preemphasis = preemphasis
        self.windowType = windowType
        self.removeDCOffset = removeDCOffset
        self.roundToPowerOfTwo = roundToPowerOfTwo
    }

    /// Samples per frame: `int(sample_rate * frame_length_ms * 0.001)` as torchaudio truncates it.
    /// 0 when the options are out of range (`validate()` reports that).
    public var frameLength: Int { Self.samples(sampleRate, frameLengthMs) }

    /// Samples between the starts of consecutive frames; 0 when out of range.
    public var frameShift: Int { Self.samples(sampleRate, frameShiftMs) }

    /// FFT length: the frame length, rounded up to a power of two when `roundToPowerOfTwo`.
    public var fftSize: Int {
        let length = frameLength
        guard roundToPowerOfTwo, length > 1 else { return length }
        return 1 << (Int.bitWidth - (length - 1).leadingZeroBitCount)
    }

    /// The upper filter edge in Hz after resolving a non-positive `highFreq` against Nyquist.
    public var effectiveHighFreq: Double {
        highFreq <= 0 ? highFreq + 0.5 * Double(sampleRate) : highFreq
    }

    /// Frames produced from `sampleCount` samples (snip_edges): `1 + (N - L) / S`, or 0 when N < L.
    public func frameCount(sampleCount: Int) -> Int {
        let length = frameLength, shift = frameShift
        guard length > 0, shift > 0, sampleCount >= length else { return 0 }
        return 1 + (sampleCount - length) / shift
    }

    /// Checks every field against the ranges torchaudio asserts (plus finiteness), throwing an
    /// error that names the first bad field by its model-file key.
    public func validate() throws(FbankOptionsError) {
        func bad(_ key: CodingKeys, _ reason: String) -> FbankOptionsError {
            FbankOptionsError(field: key.rawValue, reason: reason)
        }
        guard sampleRate > 0 else { throw bad(.sampleRate, "must be positive, got \(sampleRate)") }
        guard numMelBins > 3, numMelBins <= Self.maxFrameSamples else {
            throw bad(.numMelBins, "must be in 4 ... \(Self.maxFrameSamples), got \(numMelBins)")
        }
        guard frameLength >= 2 else {
            throw bad(.frameLengthMs, "\(frameLengthMs) ms gives \(frameLength) samples at \(sampleRate) Hz; need 2 to \(Self.maxFrameSamples)")
        }
        guard fftSize % 2 == 0 else {
            throw bad(.frameLengthMs, "\(frameLengthMs) ms gives an odd frame of \(frameLength) samples; the FFT needs an even length (or set round_to_power_of_two)")
        }
        guard frameShift >= 1 else {
            throw bad(.frameShiftMs, "\(frameShiftMs) ms gives \(frameShift) samples at \(sampleRate) Hz; need 1 to \(Self.maxFrameSamples)")
        }
        let nyquist = 0.5 * Double(sampleRate)
        guard lowFreq.isFinite, lowFreq >= 0, lowFreq < nyquist else {
            throw bad(.lowFreq, "must be in [0, \(nyquist)) Hz (Nyquist), got \(lowFreq)")
        }
        let high = effectiveHighFreq
        guard high.isFinite, high > 0, high <= nyquist else {
            throw bad(.highFreq, "\(highFreq) resolves to \(high) Hz; must be in (0, \(nyquist)] (<= 0 is an offset from Nyquist)")
        }
        guard lowFreq < high else {
            throw bad(.lowFreq, "\(lowFreq) Hz must be below high_freq (\(high) Hz)")
        }
        guard preemphasis.isFinite, preemphasis >= 0, preemphasis <= 1 else {
            throw bad(.preemphasis, "must be in [0, 1], got \(preemphasis)")
        }
    }

    /// A sanity cap on frame sizes and bin counts (about 1 s at 1 MHz) so a corrupt model file
    /// cannot request gigabyte buffers or overflow the conversion.
    static let maxFrameSamples = 1 << 20

    /// torchaudio's `int(sample_frequency * ms * 0.001)`, or 0 when that is not a sane size.
    private static func samples(_ sampleRate: Int, _ milliseconds: Double) -> Int {
        let count = Double(sampleRate) * milliseconds * 0.001
        guard count.isFinite, count >= 0, count <= Double(maxFrameSamples) else { return 0 }
        return Int(count)
    }
}

/// A filterbank option outside its valid range. `field` is the model-file key (e.g. `low_freq`).
public struct FbankOptionsError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String

    public var description: String { "fbank option '\(field)': \(reason)" }
}
