import Foundation

/// One output line. Field names and meanings are the stable interface documented in README.md
/// ("Records"); add fields, never rename or remove them.
///
/// Times: `start`/`end` are seconds from the start of the stream, exact to the sample
/// (sample index / sample rate); `time` is the UTC wall clock when the record was made.
public enum Record: Equatable, Sendable {
    /// A class turned on: written as soon as the decoder decides, before the event ends.
    case onset(Onset)
    /// A class turned off (or the stream ended while it was on): the whole event.
    case event(Event)
    /// The top classes of one window, for "what is it hearing?".
    case tags(Tags)
    /// The classes with the highest window score over a whole file (`tag --top-k`).
    case summary(Summary)

    public struct Label: Codable, Equatable, Sendable {
        public var label: String
        public var id: String
        public var score: Float
        public init(label: String, id: String, score: Float) { self.label = label; self.id = id; self.score = score }
    }

    public struct Onset: Codable, Equatable, Sendable {
        public var type = "onset"
        public var label: String
        public var id: String
        public var start: Double
        public var time: Date
        public var score: Float
        /// The input file, when tagging files (`tag`); absent for live streams.
        public var file: String?
        public init(label: String, id: String, start: Double, time: Date, score: Float, file: String? = nil) {
            self.label = label; self.id = id; self.start = start; self.time = time; self.score = score; self.file = file
        }
    }

    public struct Event: Codable, Equatable, Sendable {
        public var type = "event"
        public var label: String
        public var id: String
        public var start: Double
        public var end: Double
        public var time: Date
        public var peak: Float
        /// The input file, when tagging files (`tag`); absent for live streams.
        public var file: String?
        /// The path of the event's audio (`clips:`), written once its post-roll has been heard;
        /// absent when clips are off or not saved for this label.
        public var clip: String?
        public init(label: String, id: String, start: Double, end: Double, time: Date, peak: Float, file: String? = nil,
                    clip: String? = nil) {
            self.label = label; self.id = id; self.start = start; self.end = end; self.time = time; self.peak = peak
            self.file = file; self.clip = clip
        }
    }

    public struct Tags: Codable, Equatable, Sendable {
        public var type = "tags"
        public var start: Double
        public var end: Double
        public var labels: [Label]
        /// The window's level in dBFS (RMS and peak, floor −120), to 0.01 dB; absent when not measured.
        public var rmsDBFS: Double?
        public var peakDBFS: Double?
        public init(start: Double, end: Double, labels: [Label], level: AudioLevel? = nil) {
            self.start = start; self.end = end; self.labels = labels
            rmsDBFS = level.map { ($0.rmsDecibels * 100).rounded() / 100 }
            peakDBFS = level.map { ($0.peakDecibels * 100).rounded() / 100 }
        }

        enum CodingKeys: String, CodingKey {
            case type, start, end, labels
            case rmsDBFS = "rms_dbfs", peakDBFS = "peak_dbfs"
        }
    }

    public struct Summary: Codable, Equatable, Sendable {
        public var type = "summary"
        public var file: String
        public var labels: [Label]
        public init(file: String, labels: [Label]) { self.file = file; self.labels = labels }
    }
}
