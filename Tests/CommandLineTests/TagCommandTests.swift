import Foundation
import XCTest

final class TagCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testSummaryPerFileAndErrorsForBadFiles() throws {
        let good = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(good, seconds: 2, toneStart: 0, toneEnd: 2)
        let text = directory.appendingPathComponent("notes.wav")
        try "these are not samples".write(to: text, atomically: true, encoding: .utf8)
        let truncated = directory.appendingPathComponent("truncated.wav")
        try Data(try Data(contentsOf: good).prefix(20)).write(to: truncated)

        let tag = try Daemon(["tag", "--model", Daemon.testModel, "--top-k", "1", good.path, text.path, truncated.path])
        XCTAssertEqual(tag.exitStatus(within: 15), 1, "bad files make the exit status non-zero")
        let summaries = tag.records()
        XCTAssertEqual(summaries.count, 1, tag.stdout)
        XCTAssertEqual(summaries.first?["file"] as? String, good.path)
        XCTAssertEqual((summaries.first?["labels"] as? [[String: Any]])?.first?["label"] as? String, "Tone 1 kHz")
        XCTAssertTrue(tag.stderr.contains("\(text.path): not a RIFF/WAVE file"), tag.stderr)
        XCTAssertTrue(tag.stderr.contains(truncated.path), tag.stderr)
    }

    func testFileShorterThanAWindowIsTagged() throws {
        let short = directory.appendingPathComponent("short.wav")
        try Daemon.writeToneWAV(short, seconds: 0.4, toneStart: 0, toneEnd: 0.4)
        let tag = try Daemon(["tag", "--model", Daemon.testModel, "--top-k", "1", short.path])
        XCTAssertEqual(tag.exitStatus(within: 15), 0, tag.stderr)
        XCTAssertEqual((tag.records().first?["labels"] as? [[String: Any]])?.first?["label"] as? String, "Tone 1 kHz")
    }

    /// A class name the model does not have is found only against the model, and still named
    /// with the configuration file and line.
    func testUnknownClassIsPlacedInTheConfigurationFile() throws {
        let wav = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(wav, seconds: 1, toneStart: 0, toneEnd: 1)
        let config = directory.appendingPathComponent("config.yaml")
        try "threads: 1\nevents:\n  include: [Unicorn]\n".write(to: config, atomically: true, encoding: .utf8)
        let tag = try Daemon(["tag", "--config", config.path, "--model", Daemon.testModel, wav.path])
        XCTAssertEqual(tag.exitStatus(within: 15), 1)
        XCTAssertTrue(tag.stderr.contains("\(config.path):3: events.include: 'Unicorn' is neither a class"), tag.stderr)
    }

    func testMissingModelIsAClearError() throws {
        let tag = try Daemon(["tag", "--model", "/nonexistent/model.safetensors", "x.wav"])
        XCTAssertNotEqual(tag.exitStatus(within: 10), 0)
        XCTAssertTrue(tag.stderr.contains("/nonexistent/model.safetensors: cannot open model file"), tag.stderr)
    }
}
