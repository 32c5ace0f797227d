import CALSA
import Foundation
import XCTest

@testable import AudioInput

/// Capture through the real alsa-lib code path without a sound card: alsa-lib's `file` plugin
/// on a `null` slave returns the bytes of an input file, in whatever format, rate and channel
/// count the hardware parameters ask for (the null slave accepts any). It has no end of file:
/// past the end, reads go on succeeding and leave the read buffer as it was (so the last period
/// repeats), until the capture is stopped. It is not paced: periods arrive as fast as they are read.
enum ALSAFixture {
    struct Files: Sendable {
        let s16Mono: [Int16]          // mast_s16 (16 kHz mono S16 in the tests)
        let s16Stereo: [Int16]        // mast_stereo (48 kHz stereo S16), interleaved
        let float32: [Float]          // mast_float
        let s32: [Int32]              // mast_s32
        let s24: [Int32]              // mast_s24 (packed 3 bytes)
    }

    /// Writes the input files and an asoundrc defining one PCM per file, and points alsa-lib at
    /// it before the test process's first ALSA call (then drops any configuration alsa-lib had
    /// already cached, so the order of tests does not matter).
    static let files: Files = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audioinput-alsa-\(getpid())")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = Files(
            s16Mono: pseudoRandomInt16(count: 16000, seed: 31),
            s16Stereo: pseudoRandomInt16(count: 2 * 48000, seed: 32),
            float32: pseudoRandomInt16(count: 8000, seed: 33).map { Float($0) / 32768 },
            s32: pseudoRandomInt16(count: 8000, seed: 34).map { Int32($0) << 16 | 0x0F0F },
            s24: pseudoRandomInt16(count: 8000, seed: 35).map { Int32($0) << 8 | 0x7E })
        let inputs: [(String, [UInt8])] = [
            ("mast_s16", littleEndianBytes(files.s16Mono)),
            ("mast_stereo", littleEndianBytes(files.s16Stereo)),
            ("mast_float", littleEndianBytes(files.float32)),
            ("mast_s32", littleEndianBytes(files.s32)),
            ("mast_s24", files.s24.flatMap { [UInt8($0 & 0xFF), UInt8(($0 >> 8) & 0xFF), UInt8(($0 >> 16) & 0xFF)] }),
        ]
        var config = ""
        for (name, bytes) in inputs {
            let raw = directory.appendingPathComponent("\(name).raw")
            try! Data(bytes).write(to: raw)
            config += """
                pcm.\(name) { type file slave.pcm "null" file "/dev/null" infile "\(raw.path)" format "raw" \
                hint { show on description "mast-tagger test input \(name)" } }

                """
        }
        let asoundrc = directory.appendingPathComponent("asoundrc")
        try! config.write(to: asoundrc, atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf:\(asoundrc.path)", 1)
        snd_config_update_free_global()
        return files
    }()
}

final class ALSACaptureTests: XCTestCase {
    private let log = CapturedLog()

    override func setUp() {
        _ = ALSAFixture.files
    }

    private func configuration(_ device: String, rate: Int, channels: Int?, formats: [SampleFormat],
                               selection: ChannelSelection = .average, outputRate: Int? = nil) -> ALSACapture.Configuration {
        ALSACapture.Configuration(device: device, outputRate: outputRate ?? rate, requestedRate: rate, channels: channels,
                                  channelSelection: selection, formats: formats, periodSeconds: 0.02,
                                  initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2)
    }

    /// Starts a capture, waits until `count` samples are in the ring (5 s at most), stops it and
    /// returns the first `count` samples and the samples after them still in the ring.
    private func capture(_ configuration: ALSACapture.Configuration, count: Int,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (ALSACapture, [Float], [Float]) {
        let capture = ALSACapture(configuration: configuration, logger: log.logger)
        let ring = try RingBuffer(capacity: count + 4000)
        try capture.start(into: ring)
        let filled = waitUntil(seconds: 5) { ring.availableToRead >= count }
        let stopStarted = Date()
        capture.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopStarted), 1, "stop() took too long", file: file, line: line)
        XCTAssertTrue(filled, "only \(ring.availableToRead) of \(count) samples arrived in 5 s: \(log.messages)", file: file, line: line)
        XCTAssertTrue(ring.isFinished, "the ring was not finished on stop", file: file, line: line)
        var samples: [Float] = []
        while let (chunk, position) = ring.read(maxCount: 100_000) {
            XCTAssertEqual(position, UInt64(samples.count), "gap in the captured stream", file: file, line: line)
            samples += chunk
        }
        XCTAssertGreaterThanOrEqual(samples.count, count, file: file, line: line)
        return (capture, Array(samples.prefix(count)), Array(samples.dropFirst(count)))
    }

    /// `arecord -D mast_s16 -f S16_LE -r 16000 -c 1`: the captured samples are the file's samples
    /// exactly; capture goes on past the end of the file until stop(), which is prompt and clean;
    /// nothing was counted as a failure.
    func testS16Mono16kCapturesTheFileExactly() throws {
        let files = ALSAFixture.files
        let (capture, samples, after) = try capture(configuration("mast_s16", rate: 16000, channels: 1, formats: [.s16LE]),
                                                    count: files.s16Mono.count)
        XCTAssertEqual(capture.streamParameters?.format, AudioFormat(sampleFormat: .s16LE, sampleRate: 16000, channels: 1))
        XCTAssertTrue(samples == files.s16Mono.map { Float($0) / 32768 }, "captured samples differ from the file")
        XCTAssertFalse(after.isEmpty, "capture should go on past the end of the plugin's file until stopped")
        let stats = capture.statistics.snapshot()
        XCTAssertGreaterThanOrEqual(stats.framesCaptured, UInt64(files.s16Mono.count))
        XCTAssertEqual(stats.xruns, 0)
        XCTAssertEqual(stats.openFailures, 0)
        XCTAssertEqual(stats.reopens, 0)
        XCTAssertLessThan(abs(try XCTUnwrap(stats.lastFrameTime) - Date().timeIntervalSince1970), 10)
        XCTAssertNil(capture.lastError)
        XCTAssertTrue(log.contains(.info, "mast_s16", "capturing S16_LE 16000 Hz 1 ch"), "\(log.messages)")
        XCTAssertTrue(log.contains(.info, "mast_s16", "capture stopped"), "\(log.messages)")
    }

    /// 48 kHz stereo S16 without resampling: one chosen channel, and the average, both exact.
    func testStereo48kChannelSelectionAndDownmix() throws {
        let stereo = ALSAFixture.files.s16Stereo
        let frames = stereo.count / 2
        let (right, rightSamples, _) = try capture(
            configuration("mast_stereo", rate: 48000, channels: 2, formats: [.s16LE], selection: .channel(1)), count: frames)
        XCTAssertEqual(right.streamParameters?.format, AudioFormat(sampleFormat: .s16LE, sampleRate: 48000, channels: 2))
        XCTAssertTrue(rightSamples == (0..<frames).map { Float(stereo[2 * $0 + 1]) / 32768 }, "right channel differs")

        let (_, mean, _) = try capture(configuration("mast_stereo", rate: 48000, channels: 2, formats: [.s16LE]), count: frames)
        XCTAssertTrue(mean == (0..<frames).map { Float(Int32(stereo[2 * $0]) + Int32(stereo[2 * $0 + 1])) / 65536 },
                      "downmix differs")
    }

    /// 48 kHz stereo captured and resampled to 16 kHz before the ring: equal to the one-shot
    /// downmix + resample of the file, for every output whose filter window lies inside the file
    /// (the rest depend on what the plugin returns past its end).
    func testStereo48kResampledTo16k() throws {
        let stereo = ALSAFixture.files.s16Stereo
        let mono = (0..<(stereo.count / 2)).map { Float(Int32(stereo[2 * $0]) + Int32(stereo[2 * $0 + 1])) / 65536 }
        let resampler = try Resampler(inputRate: 48000, outputRate: 16000)
        let expected = resampler.process(mono)
        XCTAssertGreaterThan(expected.count, 15900)
        let (capture, samples, _) = try capture(
            configuration("mast_stereo", rate: 48000, channels: 2, formats: [.s16LE], outputRate: 16000), count: expected.count)
        XCTAssertEqual(capture.streamParameters?.format.sampleRate, 48000)
        XCTAssertEqual(capture.sampleRate, 16000)
        XCTAssertTrue(samples == expected, "captured-and-resampled stream differs from the one-shot path")
    }

    /// FLOAT_LE, S32_LE and S24_3LE capture, each exact; with the default preference list the
    /// plugin (which offers every format) is read as FLOAT_LE, and with no channel count asked,
    /// the device's minimum (1) is taken.
    func testOtherFormatsAndDefaults() throws {
        let files = ALSAFixture.files
        let (f, floats, _) = try capture(configuration("mast_float", rate: 16000, channels: nil,
                                                       formats: ALSACapture.Configuration().formats), count: files.float32.count)
        XCTAssertEqual(f.streamParameters?.format, AudioFormat(sampleFormat: .float32LE, sampleRate: 16000, channels: 1))
        XCTAssertTrue(floats == files.float32, "FLOAT_LE capture differs")

        let (s32, ints, _) = try capture(configuration("mast_s32", rate: 16000, channels: 1, formats: [.s32LE]), count: files.s32.count)
        XCTAssertEqual(s32.streamParameters?.format.sampleFormat, .s32LE)
        XCTAssertTrue(ints == files.s32.map { Float(Double($0) / 2_147_483_648) }, "S32_LE capture differs")

        let (s24, packed, _) = try capture(configuration("mast_s24", rate: 16000, channels: 1, formats: [.s24_3LE]), count: files.s24.count)
        XCTAssertEqual(s24.streamParameters?.format.sampleFormat, .s24_3LE)
        XCTAssertTrue(packed == files.s24.map { Float($0) / 8_388_608 }, "S24_3LE capture differs")
    }

    /// A device that does not exist: a clear error naming it, retried with doubling back-off
    /// (0.05, 0.1, 0.2, 0.2 … s here), every failure counted, and stop() still prompt.
    func testMissingDeviceIsRetriedWithBackoff() throws {
        let capture = ALSACapture(configuration: configuration("mast_no_such_pcm", rate: 16000, channels: 1, formats: [.s16LE]),
                                  logger: log.logger)
        let ring = try RingBuffer(capacity: 100)
        let start = Date()
        try capture.start(into: ring)
        XCTAssertTrue(waitUntil(seconds: 5) { capture.statistics.snapshot().openFailures >= 4 })
        let elapsed = Date().timeIntervalSince(start)
        let failures = capture.statistics.snapshot().openFailures
        // Four failures need at least 0.05 + 0.1 + 0.2 s of back-off; without back-off there would be thousands.
        XCTAssertGreaterThanOrEqual(elapsed, 0.3)
        XCTAssertLessThanOrEqual(Double(failures), elapsed / 0.2 + 4)
        let error = try XCTUnwrap(capture.lastError)
        XCTAssertEqual(error.kind, .device)
        XCTAssertTrue(error.description.hasPrefix("ALSA device 'mast_no_such_pcm': cannot open for capture: "), "\(error)")
        for delay in ["0.05", "0.1", "0.2"] {
            XCTAssertTrue(log.contains(.warning, "mast_no_such_pcm", "retrying in \(delay) s"), "\(log.messages)")
        }
        let stopStarted = Date()
        capture.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopStarted), 1)
        XCTAssertTrue(ring.isFinished)
        XCTAssertNil(capture.streamParameters)
        XCTAssertEqual(ring.samplesWritten, 0)
    }

    /// stop() interrupts a long back-off sleep at once.
    func testStopInterruptsBackoff() throws {
        var config = configuration("mast_no_such_pcm", rate: 16000, channels: 1, formats: [.s16LE])
        config.initialBackoffSeconds = 30
        config.maxBackoffSeconds = 30
        let capture = ALSACapture(configuration: config, logger: log.logger)
        try capture.start(into: try RingBuffer(capacity: 100))
        XCTAssertTrue(waitUntil(seconds: 5) { capture.statistics.snapshot().openFailures == 1 })
        let stopStarted = Date()
        capture.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopStarted), 1)
    }

    /// A channel selection the device cannot satisfy is reported loudly and retried (a different
    /// device may appear under the name), never captured wrongly.
    func testChannelSelectionTheDeviceLacksIsReported() throws {
        let capture = ALSACapture(configuration: configuration("mast_s16", rate: 16000, channels: nil, formats: [.s16LE],
                                                               selection: .channel(1)), logger: log.logger)
        let ring = try RingBuffer(capacity: 100)
        try capture.start(into: ring)
        XCTAssertTrue(waitUntil(seconds: 5) { capture.statistics.snapshot().openFailures >= 2 })
        capture.stop()
        let error = try XCTUnwrap(capture.lastError)
        XCTAssertEqual(error.kind, .invalidArgument)
        XCTAssertEqual(error.description, "ALSA device 'mast_s16': channel 1 selected but the stream has 1 channel(s) (0...0)")
        XCTAssertEqual(ring.samplesWritten, 0)
    }

    func testInvalidConfigurationFailsAtStart() throws {
        let cases: [(ALSACapture.Configuration, String)] = [
            (.init(device: "x", outputRate: 0), "output rate 0 Hz"),
            (.init(device: "x", channels: 0), "0 channels requested"),
            (.init(device: "x", channels: 2, channelSelection: .channel(2)), "channel 2 selected but 2 channel(s) requested"),
            (.init(device: "x", formats: []), "no sample formats"),
            (.init(device: "x", periodSeconds: 1, watchdogSeconds: 0.5), "need 0 < period < watchdog"),
            (.init(device: "x", initialBackoffSeconds: 2, maxBackoffSeconds: 1), "need 0 < initial ≤ max"),
        ]
        for (config, message) in cases {
            let capture = ALSACapture(configuration: config, logger: log.logger)
            XCTAssertThrowsError(try capture.start(into: try RingBuffer(capacity: 10))) { error in
                XCTAssertTrue("\(error)".hasPrefix("ALSA device 'x': "), "\(error)")
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// Without a sound card the list has alsa-lib's `null` and the PCMs of the test asoundrc.
    func testListDevices() {
        let devices = ALSACapture.listDevices()
        XCTAssertTrue(devices.contains { $0.name == "null" && $0.kind == .pcm }, "\(devices)")
        XCTAssertTrue(devices.contains { $0.name == "mast_s16" && $0.description == "mast-tagger test input mast_s16" }, "\(devices)")
    }
}
