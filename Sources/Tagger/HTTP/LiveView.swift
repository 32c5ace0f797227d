import Foundation
import MAST

/// What the tagger hears right now, for the live page and `/api/now`: the last window's level
/// and best classes, the events of the last minutes, the classes on now, and, while a page
/// watches, the last few seconds of log-mel frames (the model's input, before its normalisation).
///
/// Fed from the pipeline's threads (`frame`: feature thread; `window`, `receive`: inference
/// thread), each a copy under one short lock; read by the HTTP server. Every store is bounded:
/// `frameCapacity` frames, `HTTP.Limits.events` events.
///
/// Frames are kept only while a page is connected (`watching`, set by the `LiveFeed`): a frame
/// comes 100 times a second, and with no page the daemon should pay next to nothing for HTTP
/// (measured: the frames' store was most of what HTTP on cost with no page; BENCHMARKS.md). So a
/// page's spectrogram starts when the first page connects, not seconds before.
public final class LiveView: RecordListener, WindowObserver, FrameObserver, @unchecked Sendable {
    /// Frames kept (100 a second): the spectrogram a new page starts with, and how far a page
    /// may fall behind before it misses frames.
    public static let frameCapacity = 1024
    /// Classes in `top`.
    public static let topCount = 10

    public struct Label: Codable, Equatable, Sendable {
        public var label: String
        public var score: Float
    }

    public struct Event: Codable, Equatable, Sendable {
        public var seq: Int
        public var label: String
        public var id: String
        public var start: Double
        public var end: Double
        public var time: Date
        public var peak: Float
    }

    public struct Active: Codable, Equatable, Sendable {
        public var label: String
        public var start: Double
        public var time: Date
        public var score: Float
    }

    public struct Level: Codable, Equatable, Sendable {
        public var rmsDBFS: Double
        public var peakDBFS: Double

        enum CodingKeys: String, CodingKey { case rmsDBFS = "rms_dbfs", peakDBFS = "peak_dbfs" }
    }

    /// `/api/now`, and the first message a live page gets.
    public struct Snapshot: Codable, Sendable {
        public var time: Date
        /// Stream time of the last window's end, seconds.
        public var stream: Double
        public var level: Level
        public var top: [Label]
        public var active: [Active]
        public var events: [Event]
    }

    private let lock = NSLock()
    // Guarded by `lock`:
    private var melRange: (low: Float, high: Float) = (-16, 8)
    private var melBins = 0
    private var sampleRate = 16000
    /// `frameCapacity × melBins` bytes, frame `n` at slot `n % frameCapacity`.
    private var frames: [UInt8] = []
    private var frameCount = 0
    private var watching = false
    private var level = Level(rmsDBFS: AudioLevel.floorDecibels, peakDBFS: AudioLevel.floorDecibels)
    private var top: [Label] = []
    private var stream = 0.0
    private var active: [String: Active] = [:]
    private var events: [Event] = []
    private var eventCount = 0
    private var eventSeconds = 600.0

    public init() {}

    /// The model whose frames follow (at start and on each reload): its normalisation for the
    /// spectrogram's colour scale. (Windows carry their own model's class names.)
    public func configure(model: Model, eventMinutes: Double) {
        lock.withLock {
            sampleRate = model.fbank.sampleRate
            // Mean ± a few deviations covers silence (log of the floor, ≈ −15.9) to loud sounds.
            let (mean, std) = (model.normalization.mean, model.normalization.std)
            melRange = (mean - 2.5 * std, mean + 3.5 * std)
            if melBins != model.fbank.numMelBins {
                melBins = model.fbank.numMelBins
                frames = [UInt8](repeating: 0, count: Self.frameCapacity * melBins)
                frameCount = 0
            }
            eventSeconds = eventMinutes * 60
        }
    }

    /// Starts keeping frames (a page connected, none was) or stops (the last page left). A new
    /// watch forgets an earlier one's frames: no page holds a cursor into them (the feed's own
    /// starts again from the first page's hello).
    public func setWatching(_ on: Bool) {
        lock.withLock {
            if on && !watching { frameCount = 0 }
            watching = on
        }
    }

    /// Frames stored in this watch: none while nobody watches (what the tests check of the saving).
    var framesStored: Int { lock.withLock { frameCount } }

    public func frame(_ mel: UnsafeBufferPointer<Float>) {
        lock.withLock {
            guard watching, mel.count == melBins else { return }
            let base = (frameCount % Self.frameCapacity) * melBins, (low, high) = melRange, scale = 255 / (high - low)
            // Through a buffer pointer: one exclusivity and uniqueness check of the array per
            // frame, not one per value.
            frames.withUnsafeMutableBufferPointer { slots in
                for m in 0 ..< mel.count {
                    slots[base + m] = UInt8(max(0, min(255, (mel[m] - low) * scale)))
                }
            }
            frameCount += 1
        }
    }

    public func window(_ result: WindowResult) {
        let p = result.probabilities
        // Named by the window's own model: right after a reload, windows of the old one still come.
        let top = topIndices(of: p, count: Self.topCount).map { Label(label: result.classes[$0].name, score: p[$0]) }
        lock.withLock {
            self.top = top
            if let l = result.level { level = Level(rmsDBFS: l.rmsDecibels, peakDBFS: l.peakDecibels) }
            stream = Double(result.endSample) / Double(sampleRate)
        }
    }

    public func receive(_ record: Record, jsonLine: String?) {
        lock.withLock {
            switch record {
            case .onset(let o):
                active[o.label] = Active(label: o.label, start: o.start, time: o.time, score: o.score)
            case .event(let e):
                active[e.label] = nil
                eventCount += 1
                events.append(Event(seq: eventCount, label: e.label, id: e.id, start: e.start, end: e.end, time: e.time, peak: e.peak))
                prune(now: e.time)
            case .tags, .summary: break
            }
        }
    }

    /// Drops events older than `event_minutes` and beyond the count limit (under `lock`).
    private func prune(now: Date) {
        let cutoff = now.addingTimeInterval(-eventSeconds)
        let old = events.prefix { $0.time < cutoff }.count
        let excess = max(0, events.count - old - TaggerConfig.HTTP.Limits.events)
        if old + excess > 0 { events.removeFirst(old + excess) }
    }

    public func snapshot() -> Snapshot {
        lock.withLock {
            prune(now: Date())
            return Snapshot(time: Date(), stream: stream, level: level, top: top,
                            active: active.values.sorted { $0.start < $1.start }, events: events)
        }
    }

    /// Where a reader stands: the events and frames it has seen.
    public struct Cursor: Sendable {
        public var events = 0
        public var frames = 0
        public init() {}
    }

    /// A live update: what changed since `cursor` (new events, new frames, the current level,
    /// top classes and active ones), and the cursor moved past it. A reader more than
    /// `frameCapacity` frames behind gets the newest frames only.
    public struct Update: Codable, Sendable {
        public var time: Date
        public var stream: Double
        public var level: Level
        public var top: [Label]
        public var active: [Active]
        public var events: [Event]
        public var melBins: Int
        /// Frames since the last update, `melBins` bytes each (0 … 255 across the model's range), base64.
        public var mel: String
        /// Frames the reader missed (it fell more than `frameCapacity` frames behind).
        public var skippedFrames: Int
    }

    public func update(since cursor: inout Cursor) -> Update {
        lock.withLock {
            let newEvents = events.filter { $0.seq > cursor.events }
            cursor.events = eventCount
            let first = max(cursor.frames, frameCount - Self.frameCapacity), skipped = max(0, first - cursor.frames)
            var bytes = [UInt8]()
            bytes.reserveCapacity((frameCount - first) * melBins)
            for n in first ..< frameCount {
                let base = (n % Self.frameCapacity) * melBins
                bytes += frames[base ..< base + melBins]
            }
            cursor.frames = frameCount
            return Update(time: Date(), stream: stream, level: level, top: top, active: active.values.sorted { $0.start < $1.start },
                          events: newEvents, melBins: melBins, mel: Data(bytes).base64EncodedString(), skippedFrames: skipped)
        }
    }

    /// A cursor `framesBack` frames back, and before every kept event (a new page's start) or
    /// after the last one.
    public func cursor(framesBack: Int, everyEvent: Bool) -> Cursor {
        lock.withLock {
            var cursor = Cursor()
            cursor.frames = max(0, frameCount - min(framesBack, Self.frameCapacity))
            cursor.events = everyEvent ? (events.first.map { $0.seq - 1 } ?? eventCount) : eventCount
            return cursor
        }
    }
}
