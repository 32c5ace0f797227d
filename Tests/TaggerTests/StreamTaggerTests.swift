import Foundation
import MAST
@testable import Tagger
import XCTest

/// The whole pipeline (fbank, windows, worker, model, decoder) on a recording with sounds at
/// known times, using the test model from training/make_test_model.py (1 kHz tone, 3 kHz tone,
/// noise, silence).
final class StreamTaggerTests: XCTestCase {
    static let sampleRate = 16000

    func testModel() throws -> Model {
        try Model(path: Bundle.module.url(forResource: "test-tones", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
    }

    /// 12 s: a 1 kHz tone over 2–4 s, noise over 6–7.5 s, a 3 kHz tone over 9–10.5 s.
    static func scene() -> [Float] {
        var generator = SplitMix64(seed: 3)
        return (0 ..< 12 * sampleRate).map { i in
            let t = Double(i) / Double(sampleRate)
            var x = 1e-4 * generator.nextUniform()
            if (2 ..< 4).contains(t) { x += 0.3 * Float(sin(2 * .pi * 1000 * t)) }
            if (6 ..< 7.5).contains(t) { x += 0.2 * generator.nextUniform() * 1.7 }
            if (9 ..< 10.5).contains(t) { x += 0.3 * Float(sin(2 * .pi * 3000 * t)) }
            return x
        }
    }

    func tag(_ samples: [Float], chunk: Int, settings: StreamTagger.Settings) throws -> [Record] {
        let lock = NSLock()
        var records: [Record] = []
        let tagger = try StreamTagger(model: testModel(), settings: settings) { record in lock.withLock { records.append(record) } }
        tagger.start()
        samples.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(start + chunk, all.count)
                tagger.push(UnsafeBufferPointer(rebasing: all[start ..< end]))
                start = end
            }
        }
        tagger.finish()
        return records
    }

    func fileSettings() -> StreamTagger.Settings {
        var settings = StreamTagger.Settings(hopFrames: 50)
        settings.backpressure = .wait
        settings.decoder.exclude = ["Silence"]
        settings.decoder.smoothing.method = .none
        return settings
    }

    func testKnownSoundsGiveEventsWithinOneHop() throws {
        let records = try tag(Self.scene(), chunk: 1600, settings: fileSettings())
        let events = records.compactMap { if case .event(let e) = $0 { e } else { nil } }
        let expected: [(String, Double, Double)] = [("Tone 1 kHz", 2, 4), ("Noise", 6, 7.5), ("Tone 3 kHz", 9, 10.5)]
        XCTAssertEqual(events.map(\.label), expected.map(\.0), "\(events)")
        for (event, (label, start, end)) in zip(events, expected) {
            XCTAssertEqual(event.start, start, accuracy: 0.5, "\(label) start")
            XCTAssertEqual(event.end, end, accuracy: 0.5, "\(label) end")
        }
        // Every event was announced by an onset with the same start.
        let onsets = records.compactMap { if case .onset(let o) = $0 { o } else { nil } }
        XCTAssertEqual(onsets.map(\.label), events.map(\.label))
        XCTAssertEqual(onsets.map(\.start), events.map(\.start))
    }

    func testChunkSizeDoesNotChangeTheResult() throws {
        let scene = Array(Self.scene().prefix(5 * Self.sampleRate))
        let strip = { (records: [Record]) in records.map { record -> String in
            switch record {
            case .onset(let o): "onset \(o.label) \(o.start) \(o.score)"
            case .event(let e): "event \(e.label) \(e.start) \(e.end) \(e.peak)"
            default: "\(record)"
            }
        } }
        XCTAssertEqual(strip(try tag(scene, chunk: 160, settings: fileSettings())),
                       strip(try tag(scene, chunk: 7919, settings: fileSettings())))
    }

    func testTagsRecordsCoverEveryWindow() throws {
        var settings = fileSettings()
        settings.tagsTopK = 2
        let records = try tag(Array(Self.scene().prefix(3 * Self.sampleRate)), chunk: 4000, settings: settings)
        let tags = records.compactMap { if case .tags(let t) = $0 { t } else { nil } }
        // 3 s hold 298 frames: regular windows start at frames 0, 50, 100, 150; the rest is
        // covered by one window aligned to the end (frames 198..<298).
        XCTAssertEqual(tags.map(\.start), [0, 0.5, 1, 1.5, 1.98])
        XCTAssertEqual(tags.last?.end, 2.995)  // the last 80 samples fill no frame
        XCTAssertTrue(tags.allSatisfy { $0.labels.count == 2 && $0.labels[0].score >= $0.labels[1].score })
        XCTAssertEqual(tags.last?.labels.first?.label, "Tone 1 kHz")
    }

    func testShortInputIsPaddedToOneWindow() throws {
        var settings = fileSettings()
        settings.tagsTopK = 1
        let tone = (0 ..< 8000).map { Float(0.3 * sin(2 * .pi * 1000 * Double($0) / 16000)) }  // 0.5 s
        let tags = try tag(tone, chunk: 8000, settings: settings).compactMap { if case .tags(let t) = $0 { t } else { nil } }
        XCTAssertEqual(tags.count, 1)
        XCTAssertEqual(tags[0].start, 0)
        XCTAssertEqual(tags[0].labels.first?.label, "Tone 1 kHz")
    }

    func testLiveModeDropsTheOldestWindowsWhenBehind() throws {
        let worker = InferenceWorker(model: try testModel(), capacity: 1, backpressure: .drop)
        let gate = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var seen: [Int] = []
        worker.start { result in
            gate.wait()  // the model "takes" until the test lets it go
            lock.withLock { seen.append(result.startSample) }
        }
        let features = [Float](repeating: 0, count: 100 * 128)
        for w in 0 ..< 10 {
            worker.submit(Window(features: features, startSample: w, endSample: w + 1))
        }
        for _ in 0 ..< 10 { gate.signal() }
        worker.finish()
        XCTAssertEqual(worker.droppedWindows + worker.processedWindows, 10)
        XCTAssertGreaterThan(worker.droppedWindows, 0)
        XCTAssertEqual(seen.last, 9, "the newest window is never the one dropped")
        XCTAssertEqual(seen, seen.sorted())
    }
}
