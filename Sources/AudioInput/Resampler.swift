import Foundation

/// Streaming band-limited resampler between integer rates: a Kaiser-windowed sinc evaluated
/// as a polyphase filter bank with the exact rational ratio `up / down = outputRate / inputRate`
/// (48000→16000 is 1/3, 44100→16000 is 160/441, 8000→16000 is 2/1).
///
/// Output sample `k` is the band-limited input evaluated at input time `k · down / up`
/// (zero phase: no delay, so output timestamps are `k / outputRate` exactly). The filter
/// needs `tapsPerPhase / 2` input samples of look-ahead; `flush()` supplies them as zeros at
/// the end of a stream. The stream is taken as zero before its first sample.
///
/// Filter: passband to 0.45 · min(rates) (90 % of the lower Nyquist), stopband from
/// 0.5 · min(rates), so nothing above the output Nyquist aliases by more than
/// −`stopbandAttenuation` dB. Each phase is normalised to unit DC gain.
///
/// Pushing a stream in chunks of any size gives bit-identical output to pushing it whole:
/// every output is one fixed dot product over the same history. Nothing allocates after init.
/// Memory: `up · tapsPerPhase` floats of filter (160 × 238 for 44.1 kHz) plus a few KiB.
public final class Resampler {
    public let inputRate: Int
    public let outputRate: Int
    /// The reduced ratio: `up` output samples per `down` input samples.
    public let up: Int
    public let down: Int
    /// Input samples each output sample is computed from.
    public let tapsPerPhase: Int

    /// [up][tapsPerPhase]: phase `p` holds the kernel at input-time offsets `p/up + half - 1 - m`.
    private let table: UnsafeMutablePointer<Float>
    private let half: Int

    /// [historyCapacity] input samples; `history[j]` is input sample `historyStart + j`.
    private let history: UnsafeMutablePointer<Float>
    private let historyCapacity: Int
    private var historyCount: Int
    private var historyStart: Int

    /// The next output `k` sits at input time `baseIndex + phase / up`.
    private var baseIndex = 0
    private var phase = 0
    /// Outputs emitted so far, and input samples pushed so far (the stream, excluding flush padding).
    private var outputCount = 0
    private var inputCount = 0
    private var flushed = false

    /// [outputCapacity] staging for `emit`.
    private let output: UnsafeMutablePointer<Float>
    private let outputCapacity = 4096
    /// Input samples copied into history per step.
    private static let block = 4096
    /// Most filter coefficients (64 MB).
    static let maximumTableSize = 1 << 24

    public init(inputRate: Int, outputRate: Int, stopbandAttenuation: Double = 70) throws {
        guard inputRate > 0, outputRate > 0 else {
            throw AudioInputError(.invalidArgument, source: "resampler",
                                  "rates \(inputRate) → \(outputRate) Hz; both must be positive")
        }
        guard stopbandAttenuation >= 21 else {
            throw AudioInputError(.invalidArgument, source: "resampler",
                                  "stopband attenuation \(stopbandAttenuation) dB; need at least 21")
        }
        let divisor = Self.gcd(inputRate, outputRate)
        self.inputRate = inputRate
        self.outputRate = outputRate
        up = outputRate / divisor
        down = inputRate / divisor

        // Kaiser design (Oppenheim & Schafer 7.6): length from the transition width in
        // input-sample units, beta from the attenuation.
        let lower = Double(min(inputRate, outputRate))
        let cutoff = 0.475 * lower / Double(inputRate)   // cycles per input sample
        let transition = 0.05 * lower / Double(inputRate)
        let length = (stopbandAttenuation - 7.95) / (2.285 * 2 * Double.pi * transition) + 1
        tapsPerPhase = 2 * Int((length / 2).rounded(.up))
        half = tapsPerPhase / 2
        // One output advances the read position by down/up input samples; it must stay inside the
        // history kept between steps, which the Kaiser length guarantees for any practical ratio.
        guard (down + up - 1) / up < half else {
            throw AudioInputError(.invalidArgument, source: "resampler",
                                  "ratio \(inputRate) → \(outputRate) Hz is too steep for a \(tapsPerPhase)-tap filter")
        }
        // Rates with no large common divisor (767999 → 16000 Hz) need a phase per output step:
        // past this many coefficients the table would take more memory than the model.
        guard up * tapsPerPhase <= Self.maximumTableSize else {
            throw AudioInputError(.invalidArgument, source: "resampler",
                                  "ratio \(inputRate) → \(outputRate) Hz needs a \(up)-phase filter; use a common rate (8000, 16000, 22050, 44100, 48000, …)")
        }
        let beta = stopbandAttenuation > 50 ? 0.1102 * (stopbandAttenuation - 8.7)
            : 0.5842 * pow(stopbandAttenuation - 21, 0.4) + 0.07886 * (stopbandAttenuation - 21)

        table = .allocate(capacity: up * tapsPerPhase)
        let i0Beta = Self.besselI0(beta)
        for p in 0..<up {
            var taps = [Double](repeating: 0, count: tapsPerPhase)
            for m in 0..<tapsPerPhase {
                let t = Double(p) / Double(up) + Double(half - 1 - m)
                let ratio = t / Double(half)
                let window = abs(ratio) >= 1 ? 0 : Self.besselI0(beta * (1 - ratio * ratio).squareRoot()) / i0Beta
                let x = 2 * cutoff * t
                let sinc = x == 0 ? 1 : sin(Double.pi * x) / (Double.pi * x)
                taps[m] = 2 * cutoff * sinc * window
            }
            let sum = taps.reduce(0, +)
            for m in 0..<tapsPerPhase { table[p * tapsPerPhase + m] = Float(taps[m] / sum) }
        }

        historyCapacity = tapsPerPhase + Self.block
        history = .allocate(capacity: historyCapacity)
        history.initialize(repeating: 0, count: historyCapacity)
        // Zeros for the inputs before the stream that output 0 reads: indices -(half-1) ... -1.
        historyCount = half - 1
        historyStart = -(half - 1)
        output = .allocate(capacity: outputCapacity)
        output.initialize(repeating: 0, count: outputCapacity)
    }

    deinit {
        table.deallocate()
        history.deallocate()
        output.deallocate()
    }

    /// Output samples a stream of `inputSamples` samples yields in total (after `flush`).
    public func outputLength(forInputLength inputSamples: Int) -> Int {
        (inputSamples * up + down - 1) / down
    }

    /// Pushes input; `emit` receives the outputs now computable, in order, possibly in several
    /// pieces. The buffers passed to `emit` are valid only during the call.
    public func process(_ input: UnsafeBufferPointer<Float>, emit: (UnsafeBufferPointer<Float>) -> Void) {
        precondition(!flushed, "Resampler: process after flush")
        var offset = 0
        while offset < input.count {
            let n = min(input.count - offset, historyCapacity - historyCount)
            (history + historyCount).update(from: input.baseAddress! + offset, count: n)
            historyCount += n
            inputCount += n
            offset += n
            produce(limit: Int.max, emit: emit)
        }
    }

    /// Ends the stream: pads zeros as look-ahead and emits the remaining outputs, so the total
    /// is `outputLength(forInputLength:)` of everything pushed.
    public func flush(emit: (UnsafeBufferPointer<Float>) -> Void) {
        precondition(!flushed, "Resampler: flush twice")
        flushed = true
        let total = outputLength(forInputLength: inputCount)
        while outputCount < total {
            let n = min(half, historyCapacity - historyCount)
            (history + historyCount).update(repeating: 0, count: n)
            historyCount += n
            produce(limit: total, emit: emit)
        }
    }

    /// Allocating conveniences for one-shot use and tests.
    public func process(_ input: [Float]) -> [Float] {
        var result: [Float] = []
        input.withUnsafeBufferPointer { buffer in process(buffer) { result.append(contentsOf: $0) } }
        return result
    }

    public func flush() -> [Float] {
        var result: [Float] = []
        flush { result.append(contentsOf: $0) }
        return result
    }

    /// Computes outputs while their look-ahead is in history (at most up to output `limit`),
    /// emits them, then discards history no later output reads.
    private func produce(limit: Int, emit: (UnsafeBufferPointer<Float>) -> Void) {
        let available = historyStart + historyCount
        var staged = 0
        while baseIndex + half < available, outputCount < limit {
            let taps = table + phase * tapsPerPhase
            let samples = history + (baseIndex - half + 1 - historyStart)
            var sum: Float = 0
            for m in 0..<tapsPerPhase { sum += taps[m] * samples[m] }
            output[staged] = sum
            staged += 1
            outputCount += 1
            phase += down
            baseIndex += phase / up
            phase %= up
            if staged == outputCapacity {
                emit(UnsafeBufferPointer(start: output, count: staged))
                staged = 0
            }
        }
        if staged > 0 { emit(UnsafeBufferPointer(start: output, count: staged)) }
        let firstNeeded = baseIndex - half + 1
        let discard = min(max(firstNeeded - historyStart, 0), historyCount)
        if discard > 0 {
            historyCount -= discard
            history.update(from: history + discard, count: historyCount)
            historyStart += discard
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used).
    private static func besselI0(_ x: Double) -> Double {
        var sum = 1.0
        var term = 1.0
        let quarterSquare = x * x / 4
        var k = 1.0
        while term > 1e-12 * sum {
            term *= quarterSquare / (k * k)
            sum += term
            k += 1
        }
        return sum
    }
}
