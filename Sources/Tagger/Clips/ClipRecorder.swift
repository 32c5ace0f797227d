import AudioInput
import Foundation
import Logging

/// Saves the audio of events (`clips:`): keeps a ring of the most recent audio, and for each
/// event to save writes `pre_roll` seconds before its start to `post_roll` after its end as a
/// WAV file, from a thread of its own, once the stream has reached the clip's end.
///
///     add (feature thread) ──► ring ──► writer thread ──► DIRECTORY/TIME-LABEL.wav, retention
///     schedule (inference thread, per event) ──► pending requests ─┘
///
/// The ring holds `pre_roll + max_seconds + post_roll` plus the delay between hearing a sound
/// and deciding that its event ended (a window and the inference queue); it is allocated once
/// and never grows. An event longer than `max_seconds` is cut there (documented in config.yaml).
/// A clip whose start has already left the ring (the model fell far behind) starts where the
/// ring does. Failures (a directory that cannot be made or written, a full disk) are logged and
/// counted; they never reach the pipeline.
public final class ClipRecorder: @unchecked Sendable {
    private let settings: TaggerConfig.Clips
    private let sampleRate: Int
    private let logger: Logger
    private let directory: URL
    private let writer = WorkerThread(name: "mast-clips")
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var ring: [Float]
    /// Stream position one past the last sample added (the ring holds `max(0, end − capacity) ..< end`).
    private var end = 0
    private var pending: [Request] = []
    private var finishing = false
    private var written = 0
    private var failed = 0

    struct Request {
        let start: Int
        let end: Int
        let path: String
        let label: String
    }

    /// - Parameter delaySeconds: the longest time from hearing a sample to deciding on an event
    ///   that ends there (a window plus the windows queued before the model).
    public init(settings: TaggerConfig.Clips, sampleRate: Int, delaySeconds: Double, logger: Logger) {
        self.settings = settings
        self.sampleRate = sampleRate
        self.logger = logger
        directory = URL(fileURLWithPath: settings.directory, isDirectory: true)
        // Bounded by the section's limits (60 + 600 + 60 s) and the window's: tens of megabytes at most.
        let seconds = settings.preRoll + settings.maxSeconds + settings.postRoll + delaySeconds + 1
        ring = [Float](repeating: 0, count: Int(seconds * Double(sampleRate)))
    }

    /// Starts the writer thread.
    public func start() {
        writer.start { [self] in run() }
    }

    public var counts: (written: Int, failed: Int) { condition.withLock { (written, failed) } }

    /// Samples whose first is at stream position `position` (the feature thread). A gap (audio
    /// dropped upstream) is kept as silence, so that positions stay exact.
    public func add(_ samples: UnsafeBufferPointer<Float>, at position: Int) {
        condition.withLock {
            let capacity = ring.count
            if position > end {  // a gap: zeros, at most a ring's worth
                for p in max(end, position - capacity) ..< position { ring[p % capacity] = 0 }
            }
            let skip = max(0, samples.count - capacity)  // only the last ring's worth can be kept
            for i in skip ..< samples.count { ring[(position + i) % capacity] = samples[i] }
            end = max(end, position + samples.count)
            if let first = pending.first, first.end <= end { condition.broadcast() }
        }
    }

    /// The path the clip of `event` will have, when its label is saved (the inference thread,
    /// before the event record is written); nil otherwise. Returns at once.
    public func schedule(_ event: Record.Event) -> String? {
        guard settings.saves(label: event.label, id: event.id) else { return nil }
        let rate = Double(sampleRate)
        let start = Int((event.start * rate).rounded()), stop = Int((event.end * rate).rounded())
        let first = max(0, start - Int((settings.preRoll * rate).rounded()))
        let last = min(stop + Int((settings.postRoll * rate).rounded()), start + Int((settings.maxSeconds * rate).rounded()))
        let began = event.time.addingTimeInterval(-(event.end - event.start))
        return condition.withLock {
            let path = uniquePath(began: began, label: event.label)
            pending.append(Request(start: first, end: max(last, first + 1), path: path, label: event.label))
            condition.broadcast()
            return path
        }
    }

    /// Writes what is pending with the audio there is (the input ended or the pipeline stops),
    /// then ends the thread. Returns when the last clip is written.
    public func finish() {
        condition.withLock {
            finishing = true
            condition.broadcast()
        }
        writer.join()
    }

    private func run() {
        while let (request, samples) = next() {
            write(request, samples)
        }
    }

    /// The next request whose audio is all here (or all there will be), with its samples.
    private func next() -> (Request, ArraySlice<Float>)? {
        condition.lock()
        defer { condition.unlock() }
        while !finishing && (pending.first.map { $0.end > end } ?? true) { condition.wait() }
        guard !pending.isEmpty else { return nil }
        let request = pending.removeFirst()
        let capacity = ring.count
        let from = max(request.start, end - capacity), to = min(request.end, end)
        var samples = [Float]()
        if to > from {
            samples.reserveCapacity(to - from)
            for p in from ..< to { samples.append(ring[p % capacity]) }
        }
        return (request, samples[...])
    }

    private func write(_ request: Request, _ samples: ArraySlice<Float>) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let url = URL(fileURLWithPath: request.path)
            // Written beside and renamed: a reader (or retention) never sees half a clip.
            let partial = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".part")
            do {
                switch settings.format {
                case .wav: try WAVWriter.data(samples, sampleRate: sampleRate).write(to: partial)
                case .flac: try FLACWriter.write(samples, sampleRate: sampleRate, to: partial.path)
                }
                try FileManager.default.moveItem(at: partial, to: url)
            } catch {
                try? FileManager.default.removeItem(at: partial)
                throw error
            }
            condition.withLock { written += 1 }
            logger.debug("clip written", metadata: ["path": "\(request.path)", "seconds": "\(Double(samples.count) / Double(sampleRate))"])
        } catch {
            let count = condition.withLock {
                failed += 1
                return failed
            }
            logger.error("clip of \(request.label) not written (\(count) so far): \(request.path): \(Self.reason(error))")
        }
        ClipRetention(directory: directory, maxBytes: Int64(settings.maxMegabytes * 1_000_000),
                      maxAge: settings.maxAgeDays * 86400, logger: logger).apply()
    }

    /// `DIRECTORY/20261130T071256.123Z-Dog_bark.wav` (or `.flac`), with `-2`, `-3`… when taken (under `condition`).
    private func uniquePath(began: Date, label: String) -> String {
        let name = ClipRetention.fileName(time: began, label: label), suffix = "." + settings.format.fileExtension
        var path = directory.appendingPathComponent(name + suffix).path, n = 2
        while pending.contains(where: { $0.path == path }) || FileManager.default.fileExists(atPath: path) {
            path = directory.appendingPathComponent("\(name)-\(n)\(suffix)").path
            n += 1
        }
        return path
    }

    static func reason(_ error: Error) -> String {
        if let cocoa = error as? CocoaError, let posix = cocoa.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return error.localizedDescription
    }
}

extension CocoaError {
    var underlying: Error? { userInfo[NSUnderlyingErrorKey] as? Error }
}
