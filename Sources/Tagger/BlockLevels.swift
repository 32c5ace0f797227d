/// The level of every window, summed from short blocks of the stream: per block of `blockSamples`
/// samples (the fbank's 10 ms frame shift), the sum of squares, the peak and the count, for the
/// last `capacity` blocks. A window is cut when its last frame is made, so all of its samples
/// are still here then; its level costs a sum over its blocks, not a second pass over its audio.
///
/// Used on the feature thread only (samples in `add`, windows in `level`); no lock.
final class BlockLevels {
    private let blockSamples: Int
    private let sampleRate: Int
    // One slot per block, block `b` in slot `b % capacity`; `block[slot]` says which block it holds.
    private var block: [Int]
    private var squares: [Double]
    private var peaks: [Float]
    private var counts: [Int]

    /// - Parameter capacity: blocks kept; at least a window's length (and its last frame's overhang).
    init(blockSamples: Int, capacity: Int, sampleRate: Int) {
        precondition(blockSamples > 0 && capacity > 0)
        self.blockSamples = blockSamples
        self.sampleRate = sampleRate
        block = [Int](repeating: -1, count: capacity)
        squares = [Double](repeating: 0, count: capacity)
        peaks = [Float](repeating: 0, count: capacity)
        counts = [Int](repeating: 0, count: capacity)
    }

    /// Adds samples whose first one is `sample` in the stream.
    func add(_ samples: UnsafeBufferPointer<Float>, at sample: Int) {
        var i = 0
        while i < samples.count {
            let position = sample + i, b = position / blockSamples, slot = b % block.count
            // The run of samples that falls in block `b`.
            let run = min(samples.count - i, (b + 1) * blockSamples - position)
            var sum: Float = 0, high: Float = 0
            for j in i ..< i + run {
                sum += samples[j] * samples[j]
                high = max(high, abs(samples[j]))
            }
            if block[slot] != b { (block[slot], squares[slot], peaks[slot], counts[slot]) = (b, 0, 0, 0) }
            squares[slot] += Double(sum)
            peaks[slot] = max(peaks[slot], high)
            counts[slot] += run
            i += run
        }
    }

    /// The level of samples `start ..< end`, to the block: the blocks that overlap it and are
    /// still kept (a gap in the stream simply contributes nothing).
    func level(from start: Int, to end: Int) -> AudioLevel {
        var sum = 0.0, peak: Float = 0, count = 0
        if end > start {
            let first = max(start / blockSamples, (end - 1) / blockSamples - block.count + 1)
            for b in first ... (end - 1) / blockSamples where block[b % block.count] == b {
                let slot = b % block.count
                sum += squares[slot]
                peak = max(peak, peaks[slot])
                count += counts[slot]
            }
        }
        return AudioLevel(sumOfSquares: sum, peak: peak, count: count, sampleRate: sampleRate)
    }
}
