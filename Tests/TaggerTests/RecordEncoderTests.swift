import Foundation
import Tagger
import XCTest

final class RecordEncoderTests: XCTestCase {
    let time = Date(timeIntervalSince1970: 1_795_000_000.125)

    func testJSONLinesHaveSortedKeysAndPlainIds() {
        let onset = RecordEncoder(format: .jsonl).line(.onset(.init(label: "Speech", id: "/m/09x0r", start: 12.34, time: time, score: 0.875)))
        XCTAssertEqual(onset, #"{"id":"/m/09x0r","label":"Speech","score":0.875,"start":12.34,"time":"2026-11-18T11:06:40.125Z","type":"onset"}"#)
        let event = RecordEncoder(format: .jsonl).line(.event(.init(label: "Dog", id: "/m/0bt9lr", start: 1.5, end: 3.25, time: time, peak: 0.5)))
        let object = try! JSONSerialization.jsonObject(with: Data(event.utf8)) as! [String: Any]
        XCTAssertEqual(object["type"] as? String, "event")
        XCTAssertEqual(object["end"] as? Double, 3.25)
        XCTAssertEqual(object["peak"] as? Double, 0.5)
        XCTAssertFalse(event.contains("\n"))
    }

    func testTextIsOneReadableLine() {
        let line = RecordEncoder(format: .text).line(.event(.init(label: "Dog", id: "/m/0bt9lr", start: 1.5, end: 3.25, time: time, peak: 0.5)))
        XCTAssertEqual(line, "2026-11-18T11:06:40.125Z event Dog (/m/0bt9lr) start=1.500 end=3.250 duration=1.750 peak=0.50")
    }

    func testLabelsWithQuotesAreEscaped() {
        let line = RecordEncoder(format: .jsonl).line(.tags(.init(start: 0, end: 1, labels: [.init(label: "Say \"hi\"", id: "/x", score: 1)])))
        let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let labels = object["labels"] as! [[String: Any]]
        XCTAssertEqual(labels[0]["label"] as? String, "Say \"hi\"")
    }

    /// A newline in a group or class name (from the configuration or the model file) must not
    /// forge a second record line in the text format.
    func testControlCharactersInNamesCannotForgeTextLines() {
        let forged = "dog\n2026-11-18T11:06:40.125Z event Intruder (/x) start=0.000"
        let line = RecordEncoder(format: .text).line(.event(.init(label: forged, id: "group:dog\r", start: 1.5, end: 3.25, time: time, peak: 0.5)))
        XCTAssertFalse(line.contains("\n") || line.contains("\r"), line)
        XCTAssertTrue(line.hasPrefix("2026-11-18T11:06:40.125Z event dog\\u{A}2026-11-18T11:06:40.125Z event Intruder (/x) start=0.000 (group:dog\\u{D})"), line)
        XCTAssertFalse(RecordEncoder(format: .text).line(.tags(.init(start: 0, end: 1, labels: [.init(label: "a\nb", id: "/x", score: 1)]))).contains("\n"))
    }
}
