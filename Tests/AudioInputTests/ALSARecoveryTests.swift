import Foundation
import XCTest

@testable import AudioInput

/// `ALSACapture`'s recovery paths (overrun, suspend, unplug, watchdog, open back-off, the lost
/// time declared to the ring) driven by a `ScriptedDevice`: S16 mono 16 kHz in, 16 kHz out (no
/// resampling, so every delivered frame is one ring sample), 20 ms periods.
final class ALSARecoveryTests: XCTestCase {
    private let log = CapturedLog()
    private static let rate = 16000
    private static let period = 320

    private func configuration(watchdog: Double = 5, backoff: Double = 0.05, maxBackoff: Double = 0.4,
                               selection: ChannelSelection = .average) -> ALSACapture.Configuration {
        ALSACapture.Configuration(device: "scripted", outputRate: Self.rate, channelSelection: selection, formats: [.s16LE],
                                  periodSeconds: Double(Self.period) / Double(Self.rate), watchdogSeconds: watchdog,
                                  initialBackoffSeconds: backoff, maxBackoffSeconds: maxBackoff)
    }

    private func start(_ device: ScriptedDevice, _ configuration: ALSACapture.Configuration,
                       capacity: Int = 64000) throws -> (ALSACapture, RingBuffer) {
        let capture = ALSACapture(configuration: configuration, logger: log.logger, open: device.open)
        let ring = try RingBuffer(capacity: capacity)
        try capture.start(into: ring)
        return (capture, ring)
    }

    /// Stops the capture: promptly, with the ring finished and every PCM opened closed again.
    private func stop(_ capture: ALSACapture, _ ring: RingBuffer, _ device: ScriptedDevice,
                      file: StaticString = #filePath, line: UInt = #line) {
        let started = Date()
        capture.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "stop() took too long", file: file, line: line)
        XCTAssertTrue(ring.isFinished, "the ring was not finished on stop", file: file, line: line)
        XCTAssertEqual(device.closes, device.opens, "a PCM was left open: \(device.events)", file: file, line: line)
    }

    /// Waits (2 s at most) until `count` samples are in the ring, then stops the capture.
    private func capture(_ device: ScriptedDevice, _ configuration: ALSACapture.Configuration, until count: Int,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (ALSACapture, RingBuffer) {
        let (capture, ring) = try start(device, configuration)
        let filled = waitUntil(seconds: 2) { ring.availableToRead >= count && device.scriptDone }
        stop(capture, ring, device, file: file, line: line)
        XCTAssertTrue(filled, "\(ring.availableToRead) of \(count) samples arrived: \(device.events) \(log.messages)",
                      file: file, line: line)
        return (capture, ring)
    }

    /// Reads the whole ring as runs contiguous in the stream: (stream position, samples).
    private func runs(_ ring: RingBuffer) -> [(position: UInt64, samples: [Float])] {
        var runs: [(position: UInt64, samples: [Float])] = []
        while let (chunk, position) = ring.read(maxCount: 100_000) {
            if let last = runs.last, last.position + UInt64(last.samples.count) == position {
                runs[runs.count - 1].samples += chunk
            } else {
                runs.append((position, chunk))
            }
        }
        return runs
    }

    /// Stream samples the capture should have skipped for the outage between the reads that
    /// delivered the `before`-th and the `after`-th batch of frames (0-based), measured by the
    /// scripted device: the wall time between them less the second batch's own duration (one
    /// period of the device).
    private func expectedSkip(_ device: ScriptedDevice, lastBatchBefore before: Int, firstBatchAfter after: Int) throws -> Double {
        let delivered: (ScriptedDevice.Event) -> Bool = { if case .delivered = $0 { true } else { false } }
        let t0 = try XCTUnwrap(device.uptime(of: delivered, skipping: before))
        let t1 = try XCTUnwrap(device.uptime(of: delivered, skipping: after))
        return (Double(t1 - t0) / 1e9 - Double(device.periodFrames) / Double(device.rate)) * Double(Self.rate)
    }

    /// Checks the ring held `frames` ramp samples in two runs split after `split`, the second
    /// starting `skipped` stream samples later, and that `skipped` is what the device measured.
    private func assertTwoRunsWithGap(_ ring: RingBuffer, frames: Int, split: Int, expected: Double, atLeast: Double,
                                      file: StaticString = #filePath, line: UInt = #line) {
        let runs = runs(ring)
        XCTAssertEqual(runs.map(\.samples.count), [split, frames - split], "runs in the ring", file: file, line: line)
        guard runs.count == 2 else { return }
        XCTAssertEqual(runs[0].position, 0, file: file, line: line)
        XCTAssertTrue(runs[0].samples == ScriptedDevice.samples(0..<split), "samples before the outage differ", file: file, line: line)
        XCTAssertTrue(runs[1].samples == ScriptedDevice.samples(split..<frames), "samples after the outage differ", file: file, line: line)
        let skipped = Double(runs[1].position) - Double(split)
        XCTAssertEqual(skipped, Double(ring.skippedSamples), "gap in positions vs skippedSamples", file: file, line: line)
        // Deterministic: the outage lasted at least this long.
        XCTAssertGreaterThanOrEqual(skipped, atLeast, "lost time under-declared", file: file, line: line)
        // The capture and the device time the outage microseconds apart; 50 ms allows for preemption.
        XCTAssertEqual(skipped, expected, accuracy: 0.05 * Double(Self.rate), "lost time differs from the outage", file: file, line: line)
    }

    // MARK: Overrun

    /// frames, a 500 ms stall, -EPIPE, frames: one xrun, one restart, capture goes on with the
    /// same PCM, every frame reaches the ring in order, and the time lost in the overrun (the
    /// stall less the duration of the first period read after it) is declared as a gap before
    /// the frames after it. A stall alone (no error: the frames were waiting in the device)
    /// declares nothing. The device's period here is 100 ms, so that leaving out the period's
    /// own duration would show.
    func testOverrunRestartsAndDeclaresTheLostTime() throws {
        let device = ScriptedDevice([.frames(3200), .stall(0.1), .frames(1600), .stall(0.5), .error(EPIPE), .frames(3200)],
                                    periodFrames: 1600)
        let (capture, ring) = try capture(device, configuration(), until: 8000)
        let stats = capture.statistics.snapshot()
        XCTAssertEqual(stats.xruns, 1)
        XCTAssertEqual(device.restarts, 1)
        XCTAssertEqual(stats.framesCaptured, 8000)
        XCTAssertEqual(stats.reopens, 0)
        XCTAssertEqual(device.opens, 1)
        XCTAssertEqual(stats.suspends + stats.watchdogTimeouts + stats.openFailures, 0)
        XCTAssertEqual(device.events.filter { $0 != .delivered(1600) },
                       [.opened(1), .failed(-EPIPE), .restarted, .closed(1)])
        XCTAssertTrue(log.contains(.warning, "scripted", "overrun (xrun 1)"), "\(log.messages)")
        // Reads of 1600 frames: 0, 1 | stall | 2 | stall, xrun | 3, 4.
        assertTwoRunsWithGap(ring, frames: 8000, split: 4800, expected: try expectedSkip(device, lastBatchBefore: 2, firstBatchAfter: 3),
                             atLeast: (0.5 - 0.1) * Double(Self.rate))
        XCTAssertTrue(log.contains(.notice, "scripted", "of audio lost"), "\(log.messages)")
    }

    // MARK: Suspend

    /// -ESTRPIPE, resume answering -EAGAIN twice then success: one suspend, three resume
    /// attempts 0.1 s apart, capture goes on with the same PCM, and the time it took is declared.
    func testSuspendResumesRetryingWhileTheDriverSaysEAGAIN() throws {
        let device = ScriptedDevice([.frames(320), .error(ESTRPIPE), .frames(320)], resumeAnswers: [-EAGAIN, -EAGAIN, 0])
        let (capture, ring) = try capture(device, configuration(), until: 640)
        let stats = capture.statistics.snapshot()
        XCTAssertEqual(stats.suspends, 1)
        XCTAssertEqual(stats.xruns + stats.reopens + stats.watchdogTimeouts + stats.openFailures, 0)
        XCTAssertEqual(device.events, [.opened(1), .delivered(320), .failed(-ESTRPIPE),
                                       .resumed(-EAGAIN), .resumed(-EAGAIN), .resumed(0), .delivered(320), .closed(1)])
        let resumed: (ScriptedDevice.Event) -> Bool = { if case .resumed = $0 { true } else { false } }
        let firstTry = try XCTUnwrap(device.uptime(of: resumed))
        let lastTry = try XCTUnwrap(device.uptime(of: resumed, skipping: 2))
        XCTAssertGreaterThanOrEqual(Double(lastTry - firstTry) / 1e9, 0.2, "resume was retried without waiting")
        XCTAssertTrue(log.contains(.warning, "scripted", "suspended (suspend 1)"), "\(log.messages)")
        assertTwoRunsWithGap(ring, frames: 640, split: 320, expected: try expectedSkip(device, lastBatchBefore: 0, firstBatchAfter: 1),
                             atLeast: (0.2 - 0.02) * Double(Self.rate))
    }

    // MARK: Unplug

    /// -ENODEV: the error is reported, the PCM closed before the back-off, a new one opened after
    /// it (one reopen), the frames after it arrive, and the outage is declared.
    func testUnpluggedDeviceIsClosedAndReopenedAfterTheBackoff() throws {
        let device = ScriptedDevice([.frames(320), .error(ENODEV), .frames(320)])
        let (capture, ring) = try capture(device, configuration(backoff: 0.1), until: 640)
        let stats = capture.statistics.snapshot()
        XCTAssertEqual(stats.reopens, 1)
        XCTAssertEqual(stats.xruns + stats.suspends + stats.watchdogTimeouts + stats.openFailures, 0)
        XCTAssertEqual(device.events, [.opened(1), .delivered(320), .failed(-ENODEV), .closed(1),
                                       .opened(2), .delivered(320), .closed(2)])
        let closed = try XCTUnwrap(device.uptime(of: { $0 == .closed(1) }))
        let reopened = try XCTUnwrap(device.uptime(of: { $0 == .opened(2) }))
        XCTAssertGreaterThanOrEqual(Double(reopened - closed) / 1e9, 0.1, "reopened before the back-off")
        let error = try XCTUnwrap(capture.lastError)
        XCTAssertEqual(error.kind, .device)
        XCTAssertTrue(error.description.hasPrefix("ALSA device 'scripted': read failed: "), "\(error)")
        XCTAssertTrue(error.description.hasSuffix("(-19)"), "\(error)")
        XCTAssertTrue(log.contains(.error, "scripted", "reopening in 0.1 s"), "\(log.messages)")
        XCTAssertTrue(log.contains(.notice, "scripted", "reopened: S16_LE 16000 Hz 1 ch"), "\(log.messages)")
        assertTwoRunsWithGap(ring, frames: 640, split: 320, expected: try expectedSkip(device, lastBatchBefore: 0, firstBatchAfter: 1),
                             atLeast: (0.1 - 0.02) * Double(Self.rate))
    }

    /// A device that only offers 48 kHz, resampled to 16 kHz: the lost time is declared in
    /// output samples (16 kHz), not device frames.
    func testLostTimeIsDeclaredAtTheOutputRate() throws {
        let device = ScriptedDevice([.frames(4800), .error(ENODEV), .frames(4800)], rate: 48000, periodFrames: 960)
        let (capture, ring) = try capture(device, configuration(backoff: 0.2), until: 3000)
        XCTAssertEqual(capture.streamParameters?.format.sampleRate, 48000)
        XCTAssertTrue(log.contains(.warning, "scripted", "does not offer 16000 Hz; capturing at 48000 Hz and resampling to 16000 Hz"),
                      "\(log.messages)")
        XCTAssertEqual(capture.statistics.snapshot().reopens, 1)
        let expected = try expectedSkip(device, lastBatchBefore: 4, firstBatchAfter: 5)
        XCTAssertGreaterThanOrEqual(Double(ring.skippedSamples), (0.2 - 0.02) * Double(Self.rate))
        XCTAssertEqual(Double(ring.skippedSamples), expected, accuracy: 0.05 * Double(Self.rate))
    }

    // MARK: Watchdog

    /// Two PCMs that are never readable, then one that delivers and goes silent, then one that
    /// delivers: three watchdog timeouts, each closing the PCM no sooner than 0.2 s after its
    /// open or its last frames; no gap is declared for the first two (no frames had ever
    /// arrived), the silence before the fourth PCM's frames is; the back-off doubles after a
    /// session that delivered nothing and starts again after one that did.
    func testWatchdogReopensASilentDevice() throws {
        let device = ScriptedDevice([.silent, .silent, .frames(320), .silent, .frames(320)])
        let (capture, ring) = try capture(device, configuration(watchdog: 0.2), until: 640)
        let stats = capture.statistics.snapshot()
        XCTAssertEqual(stats.watchdogTimeouts, 3)
        XCTAssertEqual(stats.reopens, 3)
        XCTAssertEqual(stats.xruns + stats.suspends + stats.openFailures, 0)
        XCTAssertEqual(device.events, [.opened(1), .closed(1), .opened(2), .closed(2), .opened(3), .delivered(320), .closed(3),
                                       .opened(4), .delivered(320), .closed(4)])
        for n in 1...2 {
            let opened = try XCTUnwrap(device.uptime(of: { $0 == .opened(n) }))
            let closed = try XCTUnwrap(device.uptime(of: { $0 == .closed(n) }))
            XCTAssertGreaterThanOrEqual(Double(closed - opened) / 1e9, 0.2, "watchdog fired early on PCM \(n)")
        }
        let lastFrames = try XCTUnwrap(device.uptime(of: { $0 == .delivered(320) }))
        let closed3 = try XCTUnwrap(device.uptime(of: { $0 == .closed(3) }))
        XCTAssertGreaterThanOrEqual(Double(closed3 - lastFrames) / 1e9, 0.2, "watchdog fired early on PCM 3")
        let error = try XCTUnwrap(capture.lastError)
        XCTAssertEqual(error.description, "ALSA device 'scripted': delivered no frames for 0.2 s (watchdog)")
        let delays = log.messages.filter { $0.message.contains("reopening in") }.map { String($0.message.split(separator: ";").last ?? "") }
        XCTAssertEqual(delays, [" reopening in 0.05 s", " reopening in 0.1 s", " reopening in 0.05 s"])
        assertTwoRunsWithGap(ring, frames: 640, split: 320, expected: try expectedSkip(device, lastBatchBefore: 0, firstBatchAfter: 1),
                             atLeast: (0.2 + 0.05 - 0.02) * Double(Self.rate))
    }

    // MARK: Open failures

    /// Opens 1, 2 and 4 fail: each failure counted and followed by a back-off that doubles from
    /// 0.05 s (0.05, then 0.1) until a device delivers frames, then starts again at 0.05 s.
    func testOpenFailuresBackOffExponentiallyAndResetAfterFrames() throws {
        let device = ScriptedDevice([.frames(320), .error(ENODEV), .frames(320)], failingOpens: [1, 2, 4])
        let (capture, ring) = try capture(device, configuration(), until: 640)
        let stats = capture.statistics.snapshot()
        XCTAssertEqual(stats.openFailures, 3)
        XCTAssertEqual(stats.reopens, 1)
        XCTAssertEqual(device.events.filter { if case .delivered = $0 { false } else { true } },
                       [.openFailed(1), .openFailed(2), .opened(3), .failed(-ENODEV), .closed(3),
                        .openFailed(4), .opened(5), .closed(5)])
        let attempt: (Int) throws -> UInt64 = { n in
            try XCTUnwrap(device.uptime(of: { $0 == .openFailed(n) || $0 == .opened(n) }))
        }
        let first = try attempt(1), second = try attempt(2), third = try attempt(3)
        XCTAssertGreaterThanOrEqual(Double(second - first) / 1e9, 0.05)
        XCTAssertGreaterThanOrEqual(Double(third - first) / 1e9, 0.05 + 2 * 0.05, "back-off did not grow")
        let delays = log.messages.filter { $0.message.contains("retrying in") || $0.message.contains("reopening in") }
            .map { String($0.message.split(separator: ";").last ?? "") }
        XCTAssertEqual(delays, [" retrying in 0.05 s (open failure 1)", " retrying in 0.1 s (open failure 2)",
                                " reopening in 0.05 s", " retrying in 0.05 s (open failure 3)"])
        XCTAssertEqual(runs(ring).flatMap(\.samples), ScriptedDevice.samples(0..<640))
        XCTAssertEqual(capture.streamParameters, device.parameters)
    }

    /// A PCM that opens but whose stream the capture cannot use (here a channel it lacks) counts
    /// as an open failure, and is closed before the back-off, not held through it.
    func testUnusableStreamIsClosedBeforeTheBackoff() throws {
        let device = ScriptedDevice([.frames(320)])
        let (capture, ring) = try start(device, configuration(backoff: 5, maxBackoff: 5, selection: .channel(1)))
        XCTAssertTrue(waitUntil(seconds: 2) { capture.statistics.snapshot().openFailures == 1 })
        XCTAssertEqual(device.events, [.opened(1), .closed(1)], "the PCM was held through the back-off")
        XCTAssertEqual(capture.lastError?.kind, .invalidArgument)
        stop(capture, ring, device)
        XCTAssertEqual(ring.samplesWritten, 0)
    }

    // MARK: Stop

    /// stop() returns within a second, finishes the ring and leaves no PCM open wherever the
    /// capture is: waiting in poll() on a silent device, retrying a resume, in a long back-off
    /// after an unplug or an open failure, or in the middle of a stall.
    func testStopIsPromptInEveryRecoveryState() throws {
        let scenarios: [(String, ScriptedDevice, ALSACapture.Configuration, (ScriptedDevice) -> Bool)] = [
            ("silent", ScriptedDevice([.frames(320), .silent]), configuration(watchdog: 30),
             { $0.scriptDone }),
            ("resuming", ScriptedDevice([.frames(320), .error(ESTRPIPE)], resumeAnswers: Array(repeating: -EAGAIN, count: 1000)),
             configuration(), { $0.resumeAttempts >= 2 }),
            ("unplugged", ScriptedDevice([.frames(320), .error(ENODEV)]), configuration(backoff: 30, maxBackoff: 30),
             { $0.closes == 1 }),
            ("absent", ScriptedDevice([], failingOpens: Set(1...10)), configuration(backoff: 30, maxBackoff: 30),
             { $0.events == [.openFailed(1)] }),
            ("stalled", ScriptedDevice([.frames(320), .stall(30), .frames(320)]), configuration(watchdog: 60),
             { $0.remainingSteps == 1 }),
        ]
        for (index, (name, device, config, reached)) in scenarios.enumerated() {
            let (capture, ring) = try start(device, config)
            XCTAssertTrue(waitUntil(seconds: 2) { reached(device) }, "\(name): \(device.events)")
            usleep(50_000) // let it settle into the wait
            stop(capture, ring, device)
            XCTAssertEqual(log.messages.filter { $0.message.hasSuffix("capture stopped") }.count, index + 1, name)
        }
    }
}
