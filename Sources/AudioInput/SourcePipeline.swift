/// The per-source path from raw frames to the ring: interleaved PCM → mono Float →
/// resampled to the output rate → `RingBuffer`, with the source's backpressure policy.
/// Buffers are allocated once here; `push` allocates nothing.
final class SourcePipeline {
    let format: AudioFormat
    let outputRate: Int
    private let converter: MonoConverter
    /// Nil when the input is already at the output rate.
    private let resampler: Resampler?
    private let backpressure: Backpressure
    /// [maxFrames] mono samples at the input rate.
    private let mono: UnsafeMutablePointer<Float>
    private let maxFrames: Int
    /// Set when a wait for room was cut short by a stop; later writes are skipped.
    private var abandoned = false

    /// `source` names the file or device in errors; `maxFrames` is the largest push handled in one piece.
    init(format: AudioFormat, selection: ChannelSelection, outputRate: Int, backpressure: Backpressure,
         maxFrames: Int, source: String) throws {
        guard format.sampleRate >= 1 else {
            throw AudioInputError(.invalidArgument, source: source, "sample rate \(format.sampleRate) Hz; need a positive rate")
        }
        converter = try MonoConverter(format: format.sampleFormat, channels: format.channels, selection: selection, source: source)
        resampler = format.sampleRate == outputRate ? nil
            : try Resampler(inputRate: format.sampleRate, outputRate: outputRate)
        self.format = format
        self.outputRate = outputRate
        self.backpressure = backpressure
        self.maxFrames = max(maxFrames, 1)
        mono = .allocate(capacity: self.maxFrames)
        mono.initialize(repeating: 0, count: self.maxFrames)
    }

    deinit { mono.deallocate() }

    /// Converts, resamples and writes `frames` frames of `raw`. Returns false when a wait for
    /// room in the ring was interrupted by `stop` (the caller should end its loop).
    func push(_ raw: UnsafeRawPointer, frames: Int, into ring: RingBuffer, stop: StopSignal) -> Bool {
        var done = 0
        while done < frames, !abandoned {
            let n = min(frames - done, maxFrames)
            converter.convert(UnsafeRawBufferPointer(start: raw + done * format.bytesPerFrame, count: n * format.bytesPerFrame),
                              frames: n, into: mono)
            let chunk = UnsafeBufferPointer(start: mono, count: n)
            if let resampler {
                resampler.process(chunk) { deliver($0, into: ring, stop: stop) }
            } else {
                deliver(chunk, into: ring, stop: stop)
            }
            done += n
        }
        return !abandoned
    }

    /// Ends the stream: emits the resampler's look-ahead tail and finishes the ring.
    func finish(into ring: RingBuffer, stop: StopSignal) {
        resampler?.flush { deliver($0, into: ring, stop: stop) }
        ring.finish()
    }

    private func deliver(_ samples: UnsafeBufferPointer<Float>, into ring: RingBuffer, stop: StopSignal) {
        guard !abandoned else { return }
        switch backpressure {
        case .drop:
            ring.write(samples)
        case .wait:
            var offset = 0
            while offset < samples.count {
                let room = min(samples.count - offset, ring.freeSpace)
                if room > 0 {
                    ring.write(UnsafeBufferPointer(rebasing: samples[offset..<(offset + room)]))
                    offset += room
                } else if !stop.sleep(seconds: 0.002) {
                    abandoned = true
                    return
                }
            }
        }
    }
}
