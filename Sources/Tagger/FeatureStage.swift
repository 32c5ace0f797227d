import AudioInput

/// The feature stage's loop: moves samples from the ring into the tagger, on the calling thread,
/// until the stream is drained or `shouldStop` says so. Samples the ring dropped or skipped show
/// up as a jump in stream position, which the tagger turns into a restart (no window spans a gap).
/// `tagger` is asked for the tagger of each chunk (the daemon replaces it on reload, in `shouldStop`);
/// `observe` sees each chunk first, with its stream position (the level meter, the clips' ring).
public func drain(_ ring: RingBuffer, into tagger: () -> StreamTagger, shouldStop: () -> Bool = { false },
                  observe: (UnsafeBufferPointer<Float>, Int) -> Void = { _, _ in }) {
    let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)
    defer { buffer.deallocate() }
    while !shouldStop() {
        if let chunk = ring.read(into: buffer) {
            let position = Int(chunk.streamPosition), tagger = tagger()
            if position != tagger.nextSample { tagger.skip(to: position) }
            let samples = UnsafeBufferPointer(rebasing: buffer[0 ..< chunk.count])
            observe(samples, position)
            tagger.push(samples)
        } else if ring.isDrained {
            return
        } else {
            _ = ring.waitForData(timeout: 0.1)
        }
    }
}
