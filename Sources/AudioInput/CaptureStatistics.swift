import Atomics
import Foundation

/// Counters a source updates from its capture thread and anyone may read at any time (for
/// logs, metrics and a health check). A struct of shared atomics: copies see the same counters.
/// File and pipe sources only move `framesCaptured` and `lastFrameTime`.
public struct CaptureStatistics: Sendable {
    /// Overruns of the device's own buffer (snd_pcm_readi returned -EPIPE); audio was lost there.
    public let xruns = ManagedAtomic<UInt64>(0)
    /// The device was suspended (-ESTRPIPE, system sleep) and resumed or re-prepared.
    public let suspends = ManagedAtomic<UInt64>(0)
    /// The device was closed and opened again after an error or a watchdog timeout.
    public let reopens = ManagedAtomic<UInt64>(0)
    /// Attempts to open or configure the device that failed (each is followed by a back-off).
    public let openFailures = ManagedAtomic<UInt64>(0)
    /// The device delivered no frames for the watchdog interval.
    public let watchdogTimeouts = ManagedAtomic<UInt64>(0)
    /// Frames read from the device, file or pipe, at its own rate, before resampling.
    public let framesCaptured = ManagedAtomic<UInt64>(0)
    /// When frames last arrived: nanoseconds since the Unix epoch (0 = never).
    public let lastFrameTimeNanoseconds = ManagedAtomic<UInt64>(0)

    public init() {}

    /// A plain copy of every counter, for printing or JSON.
    public struct Snapshot: Sendable, Equatable, Codable {
        public var xruns: UInt64
        public var suspends: UInt64
        public var reopens: UInt64
        public var openFailures: UInt64
        public var watchdogTimeouts: UInt64
        public var framesCaptured: UInt64
        /// Seconds since the Unix epoch, nil before the first frame.
        public var lastFrameTime: Double?
    }

    public func snapshot() -> Snapshot {
        let last = lastFrameTimeNanoseconds.load(ordering: .relaxed)
        return Snapshot(
            xruns: xruns.load(ordering: .relaxed),
            suspends: suspends.load(ordering: .relaxed),
            reopens: reopens.load(ordering: .relaxed),
            openFailures: openFailures.load(ordering: .relaxed),
            watchdogTimeouts: watchdogTimeouts.load(ordering: .relaxed),
            framesCaptured: framesCaptured.load(ordering: .relaxed),
            lastFrameTime: last == 0 ? nil : Double(last) / 1e9)
    }

    /// Records `frames` frames arriving now.
    func countFrames(_ frames: Int) {
        framesCaptured.wrappingIncrement(by: UInt64(frames), ordering: .relaxed)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        lastFrameTimeNanoseconds.store(UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec), ordering: .relaxed)
    }
}
