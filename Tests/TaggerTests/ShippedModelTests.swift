import Foundation
import MAST
@testable import Tagger
import XCTest

/// The shipped model through the whole pipeline at the default settings, on the bundled example
/// recording whose sounds are known (examples/make_example.sh): each of its five sounds gives an
/// event with a fitting label, starting and ending within one hop of where it is.
final class ShippedModelTests: XCTestCase {
    func testExampleRecordingGivesItsSoundsAtTheirTimes() throws {
        let model = try ShippedFiles.model()
        let samples = try ShippedFiles.exampleSamples()
        let config = TaggerConfig()
        var settings = try StreamTagger.Settings(config: config)
        settings.backpressure = .wait
        let lock = NSLock()
        var events: [Record.Event] = []
        let tagger = try StreamTagger(model: model, settings: settings) { record in
            if case .event(let event) = record { lock.withLock { events.append(event) } }
        }
        tagger.start()
        samples.withUnsafeBufferPointer { tagger.push($0) }
        tagger.finish()

        let hop = config.windows.hop
        // (what, start, end, labels that name it)
        let sounds: [(String, Double, Double, Set<String>)] = [
            ("first speech", 0.0, 2.5, ["Speech"]),
            ("1 kHz beep", 3.0, 4.0, ["Sine wave", "Beep, bleep", "Tone"]),
            ("white noise", 5.0, 7.0, ["White noise", "Noise", "Pink noise", "Static"]),
            ("second speech", 7.5, 10.0, ["Speech"]),
            ("sawtooth chord", 10.5, 11.5, ["Music", "Musical instrument", "Synthesizer", "Electronic music"]),
        ]
        for (what, start, end, labels) in sounds {
            let match = events.first { labels.contains($0.label) && abs($0.start - start) <= hop && abs($0.end - end) <= hop }
            XCTAssertNotNil(match, "\(what) (\(start)–\(end) s) not found in \(events.map { "\($0.label) \($0.start)–\($0.end)" })")
        }
        let speechOutside = events.filter { $0.label == "Speech" && $0.start > 3.5 && $0.end < 7.0 }
        XCTAssertEqual(speechOutside.count, 0, "speech where there is none: \(speechOutside)")
    }
}
