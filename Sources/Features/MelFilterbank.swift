import Foundation

/// Kaldi's triangular mel filters over a power spectrum, built once from `FbankOptions`.
///
/// Mel scale `m(f) = 1127 ln(1 + f / 700)`. Filter b (0 ..< numBins) rises from
/// `m_lo + b Δ` to a peak at `m_lo + (b+1) Δ` and falls to `m_lo + (b+2) Δ`, with
/// `Δ = (m(high) - m(low)) / (numBins + 1)`; its weight on FFT bin k (frequency `k · rate / fftSize`)
/// is `max(0, min(up, down))` of the two slopes measured in mel, for k in `0 ..< fftSize/2`.
/// The Nyquist bin `fftSize/2` always has weight 0 (torchaudio pads the bank with a zero column).
///
/// Each filter is non-zero on one contiguous run of bins, so the bank is stored as runs
/// (first bin, weights) rather than as a dense numBins × (fftSize/2 + 1) matrix: with 128 filters
/// over 257 bins (AST) that is 504 multiply-adds per frame instead of 32,896.
struct MelFilterbank: Sendable {
    /// Number of filters, the length of the output.
    let numBins: Int
    /// Length of the power spectrum the bank reads: `fftSize / 2 + 1`.
    let spectrumLength: Int
    /// `firstBin[b]`: the FFT bin that `weights[offsets[b]]` multiplies.
    let firstBin: [Int]
    /// `offsets[b] ..< offsets[b + 1]`: filter b's run in `weights`; `offsets.count == numBins + 1`.
    let offsets: [Int]
    /// All runs, concatenated in filter order.
    let weights: [Float]

    /// Expects options that passed `validate()`.
    ///
    /// The arithmetic follows torchaudio's `get_mel_banks` step by step: band edges and slopes in
    /// float32 from double-precision constants, so the weights agree to about 1e-5 (torch's
    /// vectorised float32 log differs from a correctly rounded one in the last bit).
    init(options: FbankOptions) {
        let fftSize = options.fftSize
        func mel(_ hz: Double) -> Double { 1127 * log(1 + hz / 700) }
        let melLow = Float(mel(options.lowFreq))
        let melDelta = Float((mel(options.effectiveHighFreq) - mel(options.lowFreq)) / Double(options.numMelBins + 1))
        let binWidth = Float(Double(options.sampleRate) / Double(fftSize))
        // [fftSize / 2] mel of each FFT bin but Nyquist.
        let binMel = (0 ..< fftSize / 2).map { k -> Float in
            Float(1127) * Float(log(Double(1 + Float(k) * binWidth / 700)))
        }

        var firstBin: [Int] = []
        var offsets = [0]
        var weights: [Float] = []
        for b in 0 ..< options.numMelBins {
            let left = melLow + Float(b) * melDelta
            let center = melLow + (Float(b) + 1) * melDelta
            let right = melLow + (Float(b) + 2) * melDelta
            var first = 0
            for (k, m) in binMel.enumerated() {
                let weight = min((m - left) / (center - left), (right - m) / (right - center))
                guard weight > 0 else { continue }
                if weights.count == offsets[b] { first = k }
                weights.append(weight)
            }
            firstBin.append(first)
            offsets.append(weights.count)
        }
        self.numBins = options.numMelBins
        self.spectrumLength = fftSize / 2 + 1
        self.firstBin = firstBin
        self.offsets = offsets
        self.weights = weights
    }

    /// `energies[b] = Σ_k weight[b][k] · power[k]`.
    /// - Parameters:
    ///   - power: [spectrumLength] power spectrum.
    ///   - energies: [numBins] output.
    func apply(power: UnsafePointer<Float>, into energies: UnsafeMutablePointer<Float>) {
        firstBin.withUnsafeBufferPointer { firstBin in
            offsets.withUnsafeBufferPointer { offsets in
                weights.withUnsafeBufferPointer { weights in
                    for b in 0 ..< numBins {
                        let start = offsets[b], toBin = firstBin[b] - start
                        var sum: Float = 0
                        for j in start ..< offsets[b + 1] { sum += weights[j] * power[j + toBin] }
                        energies[b] = sum
                    }
                }
            }
        }
    }
}
