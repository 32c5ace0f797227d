import CFFTW
import Foundation

/// FFTW's planner (plan creation and destruction) is not thread-safe; executing a plan is.
/// Every plan made or destroyed in this process must hold this lock.
private let fftwPlannerLock = NSLock()

/// A Kaldi log-mel filterbank computed incrementally: push audio in chunks of any size and get
/// every frame as soon as its last sample has arrived, each frame computed once.
///
/// Output equals `torchaudio.compliance.kaldi.fbank` with the same options (snip_edges, dither 0):
/// frame t covers samples `t·S ..< t·S + L` (S = frame shift, L = frame length) and is
/// `log(max(mel · |rfft(window · preemph(x - mean(x)))|², FLT_EPSILON))`, [numMelBins] floats.
///
/// Per frame: one FFTW r2c transform of `fftSize` points and a sparse mel product; nothing is
/// allocated after `init`. One instance serves one stream from one thread at a time.
public final class StreamingFbank {
    public let options: FbankOptions
    /// Width of one output frame.
    public var numMelBins: Int { bank.numBins }

    private let frameLength: Int       // L
    private let frameShift: Int        // S
    private let fftSize: Int           // N >= L
    private let preemphasis: Float
    private let removeDCOffset: Bool
    private let bank: MelFilterbank

    /// [L] the samples of the frame being filled; the first `filled` are valid. When a frame
    /// completes, its last L - S samples (the next frame's head) move to the front.
    private let pending: UnsafeMutablePointer<Float>
    private var filled = 0
    /// Input samples to drop before the next frame starts (only when S > L).
    private var toSkip = 0

    /// [L] window function.
    private let window: UnsafeMutablePointer<Float>
    /// [N] FFT input: the processed frame, zero-padded from L to N (FFTW-aligned).
    private let fftInput: UnsafeMutablePointer<Float>
    /// [N/2 + 1] FFT output (FFTW-aligned).
    private let spectrum: UnsafeMutablePointer<fftwf_complex>
    /// [N/2 + 1] power spectrum.
    private let power: UnsafeMutablePointer<Float>
    /// [numMelBins] the finished frame handed to callers.
    private let frame: UnsafeMutablePointer<Float>
    private let plan: OpaquePointer

    public init(options: FbankOptions = FbankOptions()) throws {
        try options.validate()
        self.options = options
        frameLength = options.frameLength
        frameShift = options.frameShift
        fftSize = options.fftSize
        preemphasis = Float(options.preemphasis)
        removeDCOffset = options.removeDCOffset
        bank = MelFilterbank(options: options)

        pending = .allocate(capacity: frameLength)
        pending.initialize(repeating: 0, count: frameLength)
        window = .allocate(capacity: frameLength)
        power = .allocate(capacity: bank.spectrumLength)
        power.initialize(repeating: 0, count: bank.spectrumLength)
        frame = .allocate(capacity: bank.numBins)
        frame.initialize(repeating: 0, count: bank.numBins)
        // Locals, because the planner closure below may not capture a half-initialised self.
        let fftSize = fftSize
        let fftInput = fftwf_alloc_real(fftSize)!
        let spectrum = fftwf_alloc_complex(fftSize / 2 + 1)!
        fftInput.initialize(repeating: 0, count: fftSize)
        Self.fillWindow(window, length: frameLength, type: options.windowType)

        // Out-of-place r2c preserves its input, so the zero padding written above stays put.
        plan = fftwPlannerLock.withLock {
            fftwf_plan_dft_r2c_1d(Int32(fftSize), fftInput, spectrum,
                                  UInt32(FFTW_ESTIMATE) | UInt32(FFTW_PRESERVE_INPUT))
        }
        self.fftInput = fftInput
        self.spectrum = spectrum
    }

    deinit {
        fftwPlannerLock.withLock { fftwf_destroy_plan(plan) }
        fftwf_free(fftInput)
        fftwf_free(spectrum)
        pending.deallocate()
        window.deallocate()
        power.deallocate()
        frame.deallocate()
    }

    /// Consumes `samples` and calls `body` once for every frame they complete, in order.
    /// `body` gets a [numMelBins] view that is valid only during the call.
    public func push(_ samples: UnsafeBufferPointer<Float>,
                     _ body: (UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        guard let source = samples.baseAddress else { return }
        var next = 0
        while next < samples.count {
            if toSkip > 0 {
                let n = min(toSkip, samples.count - next)
                toSkip -= n
                next += n
                continue
            }
            let n = min(frameLength - filled, samples.count - next)
            (pending + filled).update(from: source + next, count: n)
            filled += n
            next += n
            guard filled == frameLength else { break }

            computeFrame()
            try body(UnsafeBufferPointer(start: frame, count: bank.numBins))

            if frameShift < frameLength {
                filled = frameLength - frameShift
                pending.update(from: pending + frameShift, count: filled)  // overlap-safe move
            } else {
                filled = 0
                toSkip = frameShift - frameLength
            }
        }
    }

    /// Consumes `samples` and appends each completed frame to `frames` (row-major,
    /// numMelBins floats per frame). Returns the number of frames appended.
    @discardableResult
    public func push(_ samples: UnsafeBufferPointer<Float>, into frames: inout [Float]) -> Int {
        var count = 0
        push(samples) { frame in
            frames.append(contentsOf: frame)
            count += 1
        }
        return count
    }

    /// Forgets buffered samples, e.g. after a gap in capture, so the next frame starts at the
    /// next pushed sample.
    public func reset() {
        filled = 0
        toSkip = 0
    }

    /// The whole-signal filterbank, as torchaudio computes it.
    /// - Returns: row-major [frameCount, numMelBins] floats, where
    ///   `frameCount == options.frameCount(sampleCount: samples.count)` (0 when the signal is
    ///   shorter than one frame).
    public static func compute(_ samples: [Float], options: FbankOptions = FbankOptions()) throws -> [Float] {
        let fbank = try StreamingFbank(options: options)
        var frames: [Float] = []
        frames.reserveCapacity(options.frameCount(sampleCount: samples.count) * options.numMelBins)
        samples.withUnsafeBufferPointer { _ = fbank.push($0, into: &frames) }
        return frames
    }

    /// `pending` (a full frame) → `frame`.
    private func computeFrame() {
        let x = fftInput
        var mean: Float = 0
        if removeDCOffset {
            var sum = 0.0
            for i in 0 ..< frameLength { sum += Double(pending[i]) }
            mean = Float(sum / Double(frameLength))
        }
        // Preemphasis reads the unmodified frame; sample 0 is its own predecessor (torchaudio
        // pads with a replicate of it). Same operation order as torchaudio, all in float32.
        let first = pending[0] - mean
        x[0] = (first - preemphasis * first) * window[0]
        for i in 1 ..< frameLength {
            let current = pending[i] - mean, previous = pending[i - 1] - mean
            x[i] = (current - preemphasis * previous) * window[i]
        }

        fftwf_execute(plan)

        for k in 0 ... fftSize / 2 {
            let (re, im) = spectrum[k]
            power[k] = re * re + im * im
        }
        bank.apply(power: power, into: frame)
        for b in 0 ..< bank.numBins {
            frame[b] = log(max(frame[b], Float.ulpOfOne))
        }
    }

    /// The window functions of torchaudio's `_feature_window_function` (symmetric, L - 1 denominator).
    private static func fillWindow(_ window: UnsafeMutablePointer<Float>, length: Int,
                                   type: FbankOptions.WindowType) {
        let a = 2 * Double.pi / Double(length - 1)
        for n in 0 ..< length {
            let hann = 0.5 - 0.5 * cos(a * Double(n))
            let value: Double
            switch type {
            case .hanning: value = hann
            case .hamming: value = 0.54 - 0.46 * cos(a * Double(n))
            case .povey: value = pow(hann, 0.85)
            case .rectangular: value = 1
            }
            (window + n).initialize(to: Float(value))
        }
    }
}
