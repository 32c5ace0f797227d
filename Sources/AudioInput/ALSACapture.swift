import CALSA
import Foundation
import Logging

/// Live capture from an ALSA device (`default`, `hw:CARD=…,DEV=…`, `plughw:…`, or a PCM
/// defined in an asoundrc) as an `AudioSource` that never dies silently.
///
/// The capture thread (a dedicated OS thread) opens the device non-blocking and polls its
/// descriptors together with a stop pipe, reading one period per wake-up; each period is
/// converted to mono, resampled to `outputRate` and written into the ring (dropping and
/// counting when the ring is full; capture never waits for the consumer).
///
/// Recovery, each event logged and counted in `statistics`:
/// - overrun (-EPIPE): prepare and restart (`xruns`);
/// - suspend (-ESTRPIPE): resume, retrying while the driver says -EAGAIN, else prepare (`suspends`);
/// - any other error (-ENODEV when a USB microphone is unplugged, -EIO, -EBADFD): close, wait
///   the back-off and reopen (`reopens`); a device absent at start or failing to reopen is
///   retried with exponential back-off, `initialBackoffSeconds` doubling to `maxBackoffSeconds`
///   (`openFailures`); the back-off resets once a device delivers frames;
/// - no frames for `watchdogSeconds`: close and reopen (`watchdogTimeouts`).
/// After any interruption the stream time that was lost is declared to the ring with `skip`,
/// so stream positions (and the timestamps derived from them) keep following the wall clock.
///
/// Stopping: `stop()` writes to the stop pipe; the thread, blocked at most in poll() or a
/// back-off sleep that also polls it, wakes at once, drops and closes the PCM itself, finishes
/// the ring and exits; `stop()` waits for that (1 s at most). No read ever blocks, so a hung
/// device cannot hold the thread.
///
/// After start nothing allocates per period: the read buffer, poll descriptors and the
/// conversion pipeline are allocated when a device is (re)opened.
public final class ALSACapture: AudioSource, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// ALSA PCM name.
        public var device: String
        /// Rate written into the ring.
        public var outputRate: Int
        /// Rate asked of the device; nil asks for `outputRate`. When the device does not offer
        /// it, the nearest rate it offers is used and resampled (logged as a warning).
        public var requestedRate: Int?
        /// Channels asked of the device; nil takes the device's minimum (1 for a mono microphone,
        /// 2 for many USB ones).
        public var channels: Int?
        public var channelSelection: ChannelSelection
        /// Sample formats in order of preference; the first the device offers is used.
        public var formats: [SampleFormat]
        public var periodSeconds: Double
        /// Device buffer length in periods.
        public var bufferPeriods: Int
        public var watchdogSeconds: Double
        public var initialBackoffSeconds: Double
        public var maxBackoffSeconds: Double

        public init(device: String = "default", outputRate: Int = 16000, requestedRate: Int? = nil,
                    channels: Int? = nil, channelSelection: ChannelSelection = .average,
                    formats: [SampleFormat] = [.float32LE, .s32LE, .s24_3LE, .s16LE],
                    periodSeconds: Double = 0.05, bufferPeriods: Int = 8, watchdogSeconds: Double = 5,
                    initialBackoffSeconds: Double = 0.5, maxBackoffSeconds: Double = 30) {
            self.device = device
            self.outputRate = outputRate
            self.requestedRate = requestedRate
            self.channels = channels
            self.channelSelection = channelSelection
            self.formats = formats
            self.periodSeconds = periodSeconds
            self.bufferPeriods = bufferPeriods
            self.watchdogSeconds = watchdogSeconds
            self.initialBackoffSeconds = initialBackoffSeconds
            self.maxBackoffSeconds = maxBackoffSeconds
        }
    }

    public let configuration: Configuration
    public var name: String { configuration.device }
    public var sampleRate: Int { configuration.outputRate }
    public let statistics = CaptureStatistics()
    public var lastError: AudioInputError? { errorSlot.value }
    /// The stream as negotiated at the latest open; nil until a device has opened.
    public var streamParameters: ALSAStreamParameters? { negotiated.value }

    private let logger: Logger
    /// Opens (and configures) the PCM for a session; called on the capture thread.
    private let openPCM: @Sendable (Configuration) throws -> any CapturePCM
    private let errorSlot = LockedValue<AudioInputError?>(nil)
    private let negotiated = LockedValue<ALSAStreamParameters?>(nil)
    private var thread: CaptureThread?

    public convenience init(configuration: Configuration, logger: Logger) {
        self.init(configuration: configuration, logger: logger, open: Self.openDevice)
    }

    /// Captures from the PCMs `open` returns instead of opening ALSA devices: the capture loop,
    /// recovery included, is the same. Tests use it to drive recovery with a scripted PCM.
    init(configuration: Configuration, logger: Logger, open: @escaping @Sendable (Configuration) throws -> any CapturePCM) {
        self.configuration = configuration
        self.logger = logger
        openPCM = open
    }

    /// Opens `configuration.device` with alsa-lib and negotiates the stream it asks for.
    private static func openDevice(_ c: Configuration) throws -> any CapturePCM {
        try ALSADevice(name: c.device, rate: c.requestedRate ?? c.outputRate, formats: c.formats,
                       channels: c.channels, periodSeconds: c.periodSeconds, bufferPeriods: c.bufferPeriods)
    }

    /// Validates the configuration and starts the capture thread. The device is opened on that
    /// thread: an absent device is not an error here but a retried, counted open failure.
    public func start(into ring: RingBuffer) throws {
        guard thread == nil else { throw AudioInputError(.alreadyStarted, source: label, "start called twice") }
        try validate()
        let thread = try CaptureThread(name: "alsa-capture")
        self.thread = thread
        thread.start { [self] stop in run(ring: ring, stop: stop) }
    }

    public func stop() {
        thread?.stopAndJoin(timeout: 1, logger: logger)
    }

    private var label: String { "ALSA device '\(configuration.device)'" }

    private func validate() throws {
        let c = configuration
        func fail(_ detail: String) -> AudioInputError { AudioInputError(.invalidArgument, source: label, detail) }
        guard c.outputRate > 0 else { throw fail("output rate \(c.outputRate) Hz; need a positive rate") }
        if let rate = c.requestedRate, rate <= 0 { throw fail("requested rate \(rate) Hz; need a positive rate") }
        if let channels = c.channels, channels < 1 { throw fail("\(channels) channels requested; need at least 1") }
        if case .channel(let index) = c.channelSelection, index < 0 { throw fail("channel index \(index); need 0 or more") }
        if let channels = c.channels, case .channel(let index) = c.channelSelection, index >= channels {
            throw fail("channel \(index) selected but \(channels) channel(s) requested")
        }
        guard !c.formats.isEmpty else { throw fail("no sample formats to try") }
        guard c.periodSeconds > 0, c.watchdogSeconds > c.periodSeconds else {
            throw fail("period \(c.periodSeconds) s and watchdog \(c.watchdogSeconds) s; need 0 < period < watchdog")
        }
        guard c.initialBackoffSeconds > 0, c.maxBackoffSeconds >= c.initialBackoffSeconds else {
            throw fail("back-off \(c.initialBackoffSeconds) s to \(c.maxBackoffSeconds) s; need 0 < initial ≤ max")
        }
    }

    // MARK: Capture thread

    /// Why a capture session (one open device) ended.
    private enum SessionEnd {
        case stopped
        case failed(AudioInputError)
        case silent
    }

    /// Buffers sized for the current device, replaced only when a reopened device needs more.
    private struct SessionBuffers {
        /// [periodFrames * bytesPerFrame] raw interleaved frames.
        var raw = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
        var rawBytes = 1
        /// [device descriptors + 1]: the device's pollfds, then the stop pipe.
        var fds = UnsafeMutablePointer<pollfd>.allocate(capacity: 1)
        var fdCount = 1

        mutating func fit(_ device: any CapturePCM) {
            let bytes = device.parameters.periodFrames * device.parameters.format.bytesPerFrame
            if bytes > rawBytes {
                raw.deallocate()
                raw = .allocate(byteCount: bytes, alignment: 16)
                rawBytes = bytes
            }
            if device.pollDescriptorCount + 1 > fdCount {
                fds.deallocate()
                fdCount = device.pollDescriptorCount + 1
                fds = .allocate(capacity: fdCount)
            }
        }

        func release() {
            raw.deallocate()
            fds.deallocate()
        }
    }

    private func run(ring: RingBuffer, stop: StopSignal) {
        let c = configuration
        var backoff = c.initialBackoffSeconds
        var buffers = SessionBuffers()
        defer { buffers.release() }
        var pipeline: SourcePipeline?
        var opened = false
        // Uptime (ns) of the latest frames, kept across sessions to size the gap after an outage.
        var lastFrameUptime: UInt64?

        while !stop.isFired {
            let device: any CapturePCM
            let active: SourcePipeline
            do {
                device = try openPCM(c)
                do {
                    // Kept across reopens while the format is unchanged, so the resampler's history carries on.
                    if let pipeline, pipeline.format == device.parameters.format {
                        active = pipeline
                    } else {
                        active = try SourcePipeline(format: device.parameters.format, selection: c.channelSelection,
                                                    outputRate: c.outputRate, backpressure: .drop,
                                                    maxFrames: device.parameters.periodFrames, source: label)
                    }
                } catch {
                    // A stream we cannot use: release the device now, not after the back-off.
                    device.close()
                    throw error
                }
            } catch {
                let failure = error as? AudioInputError ?? AudioInputError(.device, source: label, "\(error)")
                let n = statistics.openFailures.wrappingIncrementThenLoad(ordering: .relaxed)
                errorSlot.value = failure
                logger.warning("\(failure); retrying in \(backoff) s (open failure \(n))")
                guard stop.sleep(seconds: backoff) else { break }
                backoff = min(backoff * 2, c.maxBackoffSeconds)
                continue
            }
            pipeline = active
            buffers.fit(device)
            negotiated.value = device.parameters
            if opened {
                statistics.reopens.wrappingIncrement(ordering: .relaxed)
                logger.notice("\(label): reopened: \(device.parameters)")
            } else {
                logger.info("\(label): capturing \(device.parameters)")
            }
            opened = true
            let requested = c.requestedRate ?? c.outputRate
            if device.parameters.format.sampleRate != requested {
                logger.warning("\(label): does not offer \(requested) Hz; capturing at \(device.parameters.format.sampleRate) Hz and resampling to \(c.outputRate) Hz")
            }

            let framesBefore = statistics.framesCaptured.load(ordering: .relaxed)
            let end = capture(device, pipeline: active, buffers: buffers, ring: ring, stop: stop,
                              lastFrameUptime: &lastFrameUptime)
            device.close()
            let delivered = statistics.framesCaptured.load(ordering: .relaxed) > framesBefore
            if delivered { backoff = c.initialBackoffSeconds }
            switch end {
            case .stopped:
                break
            case .failed(let failure):
                errorSlot.value = failure
                logger.error("\(failure); reopening in \(backoff) s")
            case .silent:
                statistics.watchdogTimeouts.wrappingIncrement(ordering: .relaxed)
                let failure = AudioInputError(.device, source: label, "delivered no frames for \(c.watchdogSeconds) s (watchdog)")
                errorSlot.value = failure
                logger.error("\(failure); reopening in \(backoff) s")
            }
            if case .stopped = end { break }
            guard stop.sleep(seconds: backoff) else { break }
            if !delivered { backoff = min(backoff * 2, c.maxBackoffSeconds) }
        }
        if let pipeline {
            pipeline.finish(into: ring, stop: stop)
        } else {
            ring.finish()
        }
        logger.info("\(label): capture stopped")
    }

    /// Reads periods from `device` until stopped, failed, or silent for the watchdog interval.
    private func capture(_ device: any CapturePCM, pipeline: SourcePipeline, buffers: SessionBuffers, ring: RingBuffer,
                         stop: StopSignal, lastFrameUptime: inout UInt64?) -> SessionEnd {
        let parameters = device.parameters
        let rate = Double(parameters.format.sampleRate)
        let watchdog = UInt64(configuration.watchdogSeconds * 1e9)
        let fds = buffers.fds
        let count = device.pollDescriptorCount
        var sessionLastFrame = DispatchTime.now().uptimeNanoseconds
        // Set after an open or a recovery: the next read measures the stream time lost before it.
        var interrupted = true
        do {
            while true {
                let silentFor = DispatchTime.now().uptimeNanoseconds - sessionLastFrame
                guard silentFor < watchdog else { return .silent }
                try device.fillPollDescriptors(fds)
                fds[count] = pollfd(fd: stop.fileDescriptor, events: Int16(POLLIN), revents: 0)
                let ready = StopSignal.poll(fds, count: count + 1, timeoutSeconds: Double(watchdog - silentFor) / 1e9)
                if stop.isFired { return .stopped }
                if ready < 0 {
                    return .failed(AudioInputError(.io, source: label, "poll failed: \(String(cString: strerror(-ready)))"))
                }
                if ready == 0 { continue }
                guard try device.events(fds) != 0 else { continue }

                let got = device.read(into: buffers.raw, frames: parameters.periodFrames)
                if got > 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if interrupted, let last = lastFrameUptime {
                        skipLostTime(since: last, now: now, frames: got, rate: rate, ring: ring)
                    }
                    interrupted = false
                    sessionLastFrame = now
                    lastFrameUptime = now
                    statistics.countFrames(got)
                    _ = pipeline.push(buffers.raw, frames: got, into: ring, stop: stop)
                } else if got == -Int(EAGAIN) {
                    continue
                } else if got == -Int(EPIPE) {
                    let n = statistics.xruns.wrappingIncrementThenLoad(ordering: .relaxed)
                    logger.warning("\(label): overrun (xrun \(n)): audio lost in the device buffer; restarting")
                    try device.restart()
                    interrupted = true
                } else if got == -Int(ESTRPIPE) {
                    let n = statistics.suspends.wrappingIncrementThenLoad(ordering: .relaxed)
                    logger.warning("\(label): suspended (suspend \(n)); resuming")
                    try device.resume { stop.sleep(seconds: 0.1) }
                    if stop.isFired { return .stopped }
                    interrupted = true
                } else {
                    return .failed(ALSADevice.error(configuration.device, "read failed", Int32(got)))
                }
            }
        } catch {
            return .failed(error as? AudioInputError ?? AudioInputError(.device, source: label, "\(error)"))
        }
    }

    /// Declares to the ring the stream time between the last frames before an interruption and
    /// the first `frames` after it (less one period of scheduling slack).
    private func skipLostTime(since last: UInt64, now: UInt64, frames: Int, rate: Double, ring: RingBuffer) {
        let lost = Double(now - last) / 1e9 - Double(frames) / rate
        guard lost > configuration.periodSeconds else { return }
        let samples = Int((lost * Double(configuration.outputRate)).rounded())
        ring.skip(samples)
        logger.notice("\(label): \(String(format: "%.3f", lost)) s of audio lost; stream positions advanced by \(samples) samples")
    }
}
