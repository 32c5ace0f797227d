import Foundation
@testable import Tagger
import XCTest

/// Windows of 1 s (16000 samples) every 0.5 s: window w covers [8000w, 8000w + 16000) and
/// stands for the slice [8000w + 4000, 8000w + 12000).
final class EventDecoderTests: XCTestCase {
    let classes = [(name: "Speech", id: "/m/09x0r"), (name: "Dog", id: "/m/0bt9lr"), (name: "Bark", id: "/m/05tny_"),
                   (name: "Music", id: "/m/04rlf")]
    let time = Date(timeIntervalSince1970: 0)

    func decoder(_ configure: (inout EventDecoderConfig) -> Void = { _ in }) throws -> EventDecoder {
        var config = EventDecoderConfig()
        config.smoothing.method = .none
        config.mergeGap = 0
        configure(&config)
        return try EventDecoder(config: config, classes: classes, sampleRate: 16000, hopSamples: 8000, clock: { self.time })
    }

    /// Runs windows whose scores are given per class, one array per window.
    func run(_ decoder: EventDecoder, _ windows: [[Float]]) -> [Record] {
        var records: [Record] = []
        for (w, scores) in windows.enumerated() {
            records += decoder.process(probabilities: scores, startSample: 8000 * w, endSample: 8000 * w + 16000)
        }
        return records + decoder.flush()
    }

    func speech(_ s: Float) -> [Float] { [s, 0, 0, 0] }

    func testOnsetThenEventWithSliceTimes() throws {
        let records = run(try decoder(), [0.1, 0.9, 0.8, 0.1, 0.1].map(speech))
        XCTAssertEqual(records, [
            .onset(.init(label: "Speech", id: "/m/09x0r", start: 0.75, time: time, score: 0.9)),
            .event(.init(label: "Speech", id: "/m/09x0r", start: 0.75, end: 1.75, time: time, peak: 0.9)),
        ])
    }

    func testHysteresisKeepsAnEventOnBetweenThresholds() throws {
        let records = run(try decoder { $0.onsetThreshold = 0.6; $0.offsetThreshold = 0.3 }, [0.7, 0.4, 0.4, 0.2].map(speech))
        guard case .event(let event)? = records.last else { return XCTFail("no event") }
        XCTAssertEqual(event.end, 1.75)  // windows 0–2 active; 0.4 stays above the offset threshold
        XCTAssertEqual(records.filter { if case .onset = $0 { true } else { false } }.count, 1)
    }

    func testOpenEventsAreClosedByFlush() throws {
        let records = run(try decoder(), [0.1, 0.9, 0.9].map(speech))
        guard case .event(let event)? = records.last else { return XCTFail("no event") }
        XCTAssertEqual(event.start, 0.75)
        XCTAssertEqual(event.end, 1.75)
    }

    func testShortGapsAreMerged() throws {
        let scores: [[Float]] = [0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1].map(speech)
        let merged = run(try decoder { $0.mergeGap = 0.6 }, scores)
        XCTAssertEqual(merged.count, 2)  // one onset, one event
        guard case .event(let event) = merged[1] else { return XCTFail("no event") }
        XCTAssertEqual(event.start, 0.25)
        XCTAssertEqual(event.end, 1.75)
        XCTAssertEqual(run(try decoder(), scores).count, 4)  // without merging: two events
    }

    func testMinimumDurationDelaysOnsetAndDropsShortEvents() throws {
        let records = run(try decoder { $0.minDuration = 1.0 }, [0.9, 0.1, 0.9, 0.9, 0.1].map(speech))
        XCTAssertEqual(records.count, 2)
        guard case .onset(let onset) = records[0], case .event(let event) = records[1] else { return XCTFail("\(records)") }
        XCTAssertEqual(onset.start, 1.25)  // the first, 0.5 s blip never reached 1 s
        XCTAssertEqual(event.end, 2.25)
    }

    func testMovingAverageSmoothsASingleSpike() throws {
        let spike = run(try decoder { $0.smoothing.method = .average; $0.smoothing.windows = 3 }, [0.1, 0.1, 0.9, 0.1, 0.1].map(speech))
        XCTAssertTrue(spike.isEmpty, "\(spike)")
        let sustained = run(try decoder { $0.smoothing.method = .average; $0.smoothing.windows = 3 }, [0.9, 0.9, 0.9, 0.1].map(speech))
        XCTAssertEqual(sustained.count, 2)
    }

    func testKOfN() throws {
        let decoder = try decoder { $0.smoothing.method = .kOfN; $0.smoothing.k = 2; $0.smoothing.n = 3 }
        let records = run(decoder, [0.9, 0.1, 0.9, 0.1, 0.1, 0.1].map(speech))
        guard case .onset(let onset)? = records.first else { return XCTFail("\(records)") }
        // On at the second of two hits within three windows (window 2), dated to the middle of
        // those three windows: window 1, whose slice starts at 0.75 s.
        XCTAssertEqual(onset.start, 0.75)
    }

    func testGroupsReplaceTheirMembersAndUseTheHighestScore() throws {
        let decoder = try decoder { $0.groups = ["dog": ["Dog", "/m/05tny_"]] }
        XCTAssertEqual(decoder.outputs.map(\.label), ["dog", "Speech", "Music"])
        let records = run(decoder, [[0, 0.2, 0.8, 0], [0, 0, 0, 0]])
        guard case .onset(let onset)? = records.first else { return XCTFail("\(records)") }
        XCTAssertEqual(onset.label, "dog")
        XCTAssertEqual(onset.id, "group:dog")
    }

    func testPerClassThresholdsAndIncludeExclude() throws {
        let strict = try decoder { $0.classes = ["/m/09x0r": .init(onsetThreshold: 0.95, offsetThreshold: 0.9)] }
        XCTAssertTrue(run(strict, [0.9, 0.9].map(speech)).isEmpty)
        let excluded = try decoder { $0.exclude = ["Speech"] }
        XCTAssertFalse(excluded.outputs.contains { $0.label == "Speech" })
        let included = try decoder { $0.include = ["Music", "/m/0bt9lr"] }
        XCTAssertEqual(included.outputs.map(\.label), ["Dog", "Music"])
    }

    func testBadConfigurationsNameTheKey() {
        func error(_ configure: (inout EventDecoderConfig) -> Void) -> String {
            do { _ = try decoder(configure); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error { $0.offsetThreshold = 0.9 }, "events.offset_threshold: 0.9 is above the onset threshold 0.5")
        XCTAssertEqual(error { $0.include = ["Cat"] }, "events.include: 'Cat' is neither a class of the model (name or id) nor a group")
        XCTAssertEqual(error { $0.groups = ["pets": ["Dog", "Cat"]] }, "events.groups.pets: 'Cat' is not a class of the model (name or id)")
        XCTAssertEqual(error { $0.onsetThreshold = 1.5 }, "events.onset_threshold: must be within 0…1, got 1.5")
    }
}
