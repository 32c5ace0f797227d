import Foundation
import Logging
@testable import Tagger
import XCTest

final class JournaldLogHandlerTests: XCTestCase {
    let date = Date(timeIntervalSince1970: 1_800_000_000.25)

    func testJournalLinesCarryThePriorityAndNoTimestamp() {
        let handler = JournaldLogHandler(label: "mast", format: .journal, metadataProvider: nil)
        XCTAssertEqual(handler.formatLine(level: .error, message: "capture lost", metadata: [:], date: date), "<3>mast: capture lost")
        XCTAssertEqual(handler.formatLine(level: .warning, message: "w", metadata: [:], date: date), "<4>mast: w")
        XCTAssertEqual(handler.formatLine(level: .notice, message: "n", metadata: [:], date: date), "<5>mast: n")
        XCTAssertEqual(handler.formatLine(level: .info, message: "i", metadata: [:], date: date), "<6>mast: i")
        XCTAssertEqual(handler.formatLine(level: .debug, message: "d", metadata: [:], date: date), "<7>mast: d")
        XCTAssertEqual(handler.formatLine(level: .error, message: "two\nlines", metadata: [:], date: date), "<3>mast: two\n<3>mast: lines")
    }

    func testMetadataIsKeyValueQuotedWhenNeeded() {
        let handler = JournaldLogHandler(label: "mast", format: .journal, metadataProvider: nil)
        let metadata: Logger.Metadata = ["device": "hw:1,0", "path": "/run/my socket", "count": "3", "empty": ""]
        XCTAssertEqual(handler.formatLine(level: .info, message: "m", metadata: metadata, date: date),
                       #"<6>mast: m count=3 device=hw:1,0 empty="" path="/run/my socket""#)
    }

    func testHumanLinesCarryTimestampAndLevel() {
        let handler = JournaldLogHandler(label: "mast", format: .human, metadataProvider: nil)
        XCTAssertEqual(handler.formatLine(level: .error, message: "boom", metadata: ["k": "v"], date: date),
                       "2027-01-15T08:00:00.250Z error mast: boom k=v")
    }

    func testJournalIsDetectedByTheStreamsDeviceAndInode() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]); close(ends[1]) }
        var status = stat()
        XCTAssertEqual(fstat(ends[1], &status), 0)
        let stream = "\(status.st_dev):\(status.st_ino)"
        XCTAssertEqual(JournaldLogHandler.detectedFormat(environment: ["JOURNAL_STREAM": stream], fileDescriptor: ends[1]), .journal)
        XCTAssertEqual(JournaldLogHandler.detectedFormat(environment: ["JOURNAL_STREAM": "\(status.st_dev):1"],
                                                         fileDescriptor: ends[1]), .human)
        XCTAssertEqual(JournaldLogHandler.detectedFormat(environment: [:], fileDescriptor: ends[1]), .human)
    }

    func testLoggerWritesOneLinePerMessage() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]) }
        var logger = Logger(label: "mast") { label in
            JournaldLogHandler(label: label, format: .journal, metadataProvider: nil, fileDescriptor: ends[1])
        }
        logger[metadataKey: "source"] = "hw:1"
        logger.error("device vanished", metadata: ["errno": "19"])
        logger.debug("not at info level")
        close(ends[1])
        var buffer = [UInt8](repeating: 0, count: 4096)
        var bytes: [UInt8] = []
        while case let n = read(ends[0], &buffer, buffer.count), n > 0 { bytes += buffer[0 ..< n] }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "<3>mast: device vanished errno=19 source=hw:1\n")
    }
}
