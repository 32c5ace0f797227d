import Foundation
import Logging
@testable import Tagger
import XCTest

/// Clips without a daemon: the samples a clip holds (compared with what went in), its bounds
/// (pre- and post-roll, the maximum length, a gap), failures that are counted and never
/// thrown, and retention. ClipsTests in CommandLineTests runs them in the daemon.
final class ClipRecorderTests: XCTestCase {
    var directory: URL!
    let logger = Logger(label: "test")

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mast-clips-\(UUID().uuidString.prefix(8))")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func settings(pre: Double = 0.5, post: Double = 0.25, max: Double = 2, labels: [String] = []) -> TaggerConfig.Clips {
        var clips = TaggerConfig.Clips()
        clips.directory = directory.path
        clips.preRoll = pre
        clips.postRoll = post
        clips.maxSeconds = max
        clips.labels = labels
        return clips
    }

    /// Sample `i` of the test stream: a 16-bit value (so the WAV holds it exactly), unique per position.
    static func sample(_ i: Int) -> Float { Float((i * 7919) % 65536 - 32768) / 32768 }

    func feed(_ recorder: ClipRecorder, from: Int, to: Int, chunk: Int = 1000) {
        var position = from
        while position < to {
            let samples = (position ..< min(position + chunk, to)).map(Self.sample)
            samples.withUnsafeBufferPointer { recorder.add($0, at: position) }
            position += samples.count
        }
    }

    func event(_ label: String = "Dog", start: Double, end: Double) -> Record.Event {
        Record.Event(label: label, id: "/m/dog", start: start, end: end, time: Date(timeIntervalSince1970: 1_800_000_000), peak: 0.9)
    }

    /// 16-bit samples of a clip, as ±1.0.
    func samples(of path: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(String(decoding: data[0 ..< 4], as: UTF8.self), "RIFF")
        XCTAssertEqual(data[24 ..< 28].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }, 16000)
        return stride(from: 44, to: data.count, by: 2).map { i in
            Float(Int16(bitPattern: UInt16(data[i]) | UInt16(data[i + 1]) << 8)) / 32768
        }
    }

    func testClipHoldsTheEventWithPreAndPostRoll() throws {
        let recorder = ClipRecorder(settings: settings(), sampleRate: 16000, delaySeconds: 1, logger: logger)
        recorder.start()
        feed(recorder, from: 0, to: 40000)
        let path = try XCTUnwrap(recorder.schedule(event(start: 1.0, end: 2.0)))
        XCTAssertEqual(URL(fileURLWithPath: path).lastPathComponent, "20270115T075959.000Z-Dog.wav")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "written only once the post-roll is heard")
        feed(recorder, from: 40000, to: 48000)
        recorder.finish()
        XCTAssertEqual(try samples(of: path), (8000 ..< 36000).map(Self.sample))  // 0.5 s before 1.0 to 0.25 s after 2.0
        XCTAssertEqual(recorder.counts.written, 1)
    }

    func testLongEventIsCutAtMaxSecondsAndGapsAreSilence() throws {
        let recorder = ClipRecorder(settings: settings(max: 2), sampleRate: 16000, delaySeconds: 1, logger: logger)
        recorder.start()
        feed(recorder, from: 0, to: 16000)
        feed(recorder, from: 24000, to: 50000)  // 0.5 s lost upstream
        let path = try XCTUnwrap(recorder.schedule(event(start: 0.75, end: 5.0)))
        recorder.finish()
        let clip = try samples(of: path)
        // From 0.25 s (pre-roll 0.5) to 0.75 + 2 s (max_seconds), without post-roll.
        XCTAssertEqual(clip.count, 16000 * 25 / 10)
        XCTAssertEqual(Array(clip[0 ..< 12000]), (4000 ..< 16000).map(Self.sample))
        XCTAssertEqual(Array(clip[12000 ..< 20000]), [Float](repeating: 0, count: 8000))
        XCTAssertEqual(Array(clip[20000...]), (24000 ..< 44000).map(Self.sample))
    }

    func testEndOfInputWritesWhatThereIsAndLabelsFilter() throws {
        let recorder = ClipRecorder(settings: settings(labels: ["Dog"]), sampleRate: 16000, delaySeconds: 1, logger: logger)
        recorder.start()
        feed(recorder, from: 0, to: 20000)
        XCTAssertNil(recorder.schedule(event("Cat", start: 0.1, end: 0.5)))
        let path = try XCTUnwrap(recorder.schedule(event(start: 1.0, end: 1.25)))  // post-roll would reach 1.5 s
        recorder.finish()
        XCTAssertEqual(try samples(of: path), (8000 ..< 20000).map(Self.sample))
    }

    /// A directory that cannot be made (a file is in the way): counted and logged, nothing thrown,
    /// and the next clip is written once the way is clear.
    func testUnwritableDirectoryIsCountedAndTaggingGoesOn() throws {
        try Data("in the way".utf8).write(to: directory)
        let recorder = ClipRecorder(settings: settings(), sampleRate: 16000, delaySeconds: 1, logger: logger)
        recorder.start()
        feed(recorder, from: 0, to: 48000)
        _ = recorder.schedule(event(start: 1.0, end: 2.0))
        XCTAssertTrue(waitFor { recorder.counts.failed == 1 })
        try FileManager.default.removeItem(at: directory)
        let path = try XCTUnwrap(recorder.schedule(event(start: 1.5, end: 2.0)))
        recorder.finish()
        XCTAssertEqual(recorder.counts.written, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func testRetentionDeletesTheOldestPastEitherLimitAndOnlyClips() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let now = Date()
        func clip(_ name: String, bytes: Int, age: Double) throws {
            let url = directory.appendingPathComponent(name)
            try Data(count: bytes).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-age)], ofItemAtPath: url.path)
        }
        try clip("20260101T000000.000Z-Dog.wav", bytes: 1000, age: 40 * 86400)  // too old
        try clip("20261101T000000.000Z-Dog.wav", bytes: 3000, age: 3600)  // oldest within the age: over the size
        try clip("20261102T000000.000Z-Cat.wav", bytes: 3000, age: 1800)
        try clip("20261103T000000.000Z-Dog.wav", bytes: 3000, age: 60)
        try clip("notes.wav", bytes: 50000, age: 100 * 86400)  // not a clip: the user's
        let retention = ClipRetention(directory: directory, maxBytes: 6500, maxAge: 30 * 86400, logger: logger)
        XCTAssertEqual(retention.apply(now: now), 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       ["20261102T000000.000Z-Cat.wav", "20261103T000000.000Z-Dog.wav", "notes.wav"])
    }

    func testNamesAreSafe() {
        let time = Date(timeIntervalSince1970: 1_800_000_000.1234)
        XCTAssertEqual(ClipRetention.fileName(time: time, label: "Dog bark/../x"), "20270115T080000.123Z-Dog_bark_.._x")
        XCTAssertEqual(ClipRetention.fileName(time: time, label: ".."), "20270115T080000.123Z-_..")
        XCTAssertTrue(ClipRetention.isClip("20270115T080800.123Z-Dog.wav"))
        XCTAssertTrue(ClipRetention.isClip("20270115T080800.123Z-Dog.flac"))
        XCTAssertFalse(ClipRetention.isClip("20270115T080800.123Z-Dog.flac.part"))
        XCTAssertFalse(ClipRetention.isClip("x20270115T080800.123Z-Dog.wav"))
    }

    func waitFor(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }
}
