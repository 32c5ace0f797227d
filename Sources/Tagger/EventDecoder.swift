import Foundation

/// Turns each window's class probabilities into onset and event records.
///
/// Outputs are the model's classes, with groups replacing their members. Per output: the score is
/// smoothed over recent windows, hysteresis thresholds switch it on and off, and an event that
/// turns off is held for `mergeGap` seconds in case it resumes. Time: each window stands for the
/// hop-wide slice around its centre (moved back to the middle of the windows a smoothed score
/// averages), so an event runs from the slice of its first active window to the slice of its
/// last, to within about one hop of the sound and exact to the sample.
public final class EventDecoder {
    /// One reported label: a class or a group of classes.
    struct Output {
        let label: String
        let id: String
        let members: [Int]   // class indices whose highest score is this output's score
        let onset: Float
        let offset: Float
    }

    /// What is known of an output's current event.
    private struct Track {
        var active = false
        /// Start and end (samples) of the current or last event; nil when there is none.
        var start: Int?
        var end = 0
        var peak: Float = 0
        var confirmed = false
        /// Recent raw scores, newest last (for smoothing).
        var recent: [Float] = []
    }

    let outputs: [Output]
    private var tracks: [Track]
    private let config: EventDecoderConfig
    private let sampleRate: Int
    private let hopSamples: Int
    private let clock: () -> Date

    /// - Parameters:
    ///   - classes: the model's classes, in logit order.
    ///   - hopSamples: the window hop in samples (the slice each window stands for).
    public init(config: EventDecoderConfig, classes: [(name: String, id: String)], sampleRate: Int, hopSamples: Int,
                clock: @escaping () -> Date = Date.init) throws {
        try config.validate(classes: classes)
        self.config = config
        self.sampleRate = sampleRate
        self.hopSamples = hopSamples
        self.clock = clock
        let index = Dictionary(classes.enumerated().flatMap { i, c in [(c.name, i), (c.id, i)] }, uniquingKeysWith: { first, _ in first })
        var grouped = Set<Int>()
        var outputs: [Output] = []
        func thresholds(_ names: [String]) -> (Float, Float) {
            let override = names.lazy.compactMap { config.classes[$0] }.first
            return (override?.onsetThreshold ?? config.onsetThreshold, override?.offsetThreshold ?? config.offsetThreshold)
        }
        for (name, members) in config.groups.sorted(by: { $0.key < $1.key }) {
            let indices = members.map { index[$0]! }
            grouped.formUnion(indices)
            let (on, off) = thresholds([name])
            outputs.append(Output(label: name, id: "group:\(name)", members: indices, onset: on, offset: off))
        }
        for (i, c) in classes.enumerated() where !grouped.contains(i) {
            let (on, off) = thresholds([c.name, c.id])
            outputs.append(Output(label: c.name, id: c.id, members: [i], onset: on, offset: off))
        }
        func named(_ output: Output, in list: [String]) -> Bool { list.contains(output.label) || list.contains(output.id) }
        self.outputs = outputs.filter { output in
            (config.include.isEmpty || named(output, in: config.include)) && !named(output, in: config.exclude)
        }
        tracks = Array(repeating: Track(), count: self.outputs.count)
    }

    /// Feeds one window's probabilities (one per class); returns the records it completes.
    public func process(probabilities: [Float], startSample: Int, endSample: Int) -> [Record] {
        // A score smoothed over the last h windows describes their middle, (h − 1)/2 hops back.
        let centre = (startSample + endSample) / 2 - (historyLength - 1) * hopSamples / 2
        let sliceStart = max(centre - hopSamples / 2, 0), sliceEnd = sliceStart + hopSamples
        var records: [Record] = []
        for (o, output) in outputs.enumerated() {
            var raw = -Float.infinity  // the best member's probability, without an array per class per window
            for member in output.members { raw = max(raw, probabilities[member]) }
            var track = tracks[o]
            track.recent.append(raw)
            if track.recent.count > historyLength { track.recent.removeFirst() }

            // A held event that can no longer resume is final.
            if !track.active, track.start != nil, Double(sliceStart - track.end) > config.mergeGap * Double(sampleRate) {
                if let event = finish(&track, output) { records.append(event) }
            }
            if track.active {
                if isOn(track.recent, threshold: output.offset) {
                    track.end = sliceEnd
                    track.peak = max(track.peak, raw)
                } else {
                    track.active = false
                    if config.mergeGap == 0, let event = finish(&track, output) { records.append(event) }
                }
            } else if isOn(track.recent, threshold: output.onset) {
                if track.start == nil { track.start = sliceStart; track.peak = 0; track.confirmed = false }
                track.active = true
                track.end = sliceEnd
                track.peak = max(track.peak, raw)
            }
            if track.active, !track.confirmed, Double(track.end - track.start!) >= config.minDuration * Double(sampleRate) {
                track.confirmed = true
                records.append(.onset(.init(label: output.label, id: output.id, start: seconds(track.start!), time: clock(),
                                            score: smoothed(track.recent))))
            }
            tracks[o] = track
        }
        return records
    }

    /// Closes every open or held event (end of input, shutdown).
    public func flush() -> [Record] {
        var records: [Record] = []
        for o in outputs.indices {
            if let event = finish(&tracks[o], outputs[o]) { records.append(event) }
            tracks[o].recent.removeAll()
        }
        return records
    }

    /// The event record of a track's current event, if it was long enough; resets the track.
    private func finish(_ track: inout Track, _ output: Output) -> Record? {
        defer { track.start = nil; track.active = false; track.confirmed = false }
        guard let start = track.start, track.confirmed else { return nil }
        return .event(.init(label: output.label, id: output.id, start: seconds(start), end: seconds(track.end),
                            time: clock(), peak: track.peak))
    }

    private var historyLength: Int {
        switch config.smoothing.method {
        case .none: return 1
        case .average: return config.smoothing.windows
        case .kOfN: return config.smoothing.n
        }
    }

    private func smoothed(_ recent: [Float]) -> Float {
        config.smoothing.method == .kOfN ? recent.max()! : recent.reduce(0, +) / Float(recent.count)
    }

    private func isOn(_ recent: [Float], threshold: Float) -> Bool {
        switch config.smoothing.method {
        case .none, .average: return smoothed(recent) >= threshold
        case .kOfN: return recent.filter { $0 >= threshold }.count >= config.smoothing.k
        }
    }

    private func seconds(_ sample: Int) -> Double { Double(sample) / Double(sampleRate) }
}
