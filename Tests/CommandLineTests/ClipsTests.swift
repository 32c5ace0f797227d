import Foundation
import XCTest

/// Clips in the running daemon: the event record names its clip, and the clip holds the input's
/// samples from pre-roll before the event to post-roll after it; a directory that cannot be
/// written is logged and counted while tagging goes on.
final class ClipsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// The 16-bit samples of a WAV written by `Daemon.writeToneWAV` or a clip (44-byte header).
    func samples(_ url: URL) throws -> [Int16] {
        let data = try Data(contentsOf: url)
        return stride(from: 44, to: data.count, by: 2).map { Int16(bitPattern: UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8) }
    }

    func run(clips: String, format: String = "wav", yaml: String = "") throws -> (Daemon, URL) {
        let wav = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(wav, seconds: 12, toneStart: 4, toneEnd: 6)
        let config = directory.appendingPathComponent("config.yaml")
        try ("input: {realtime: false}\nevents: {exclude: [Silence]}\nclips: {pre_roll: 1.5, post_roll: 0.5, format: \(format)}\n" + yaml)
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "wav:\(wav.path)",
                                 "--clips", clips])
        XCTAssertEqual(daemon.exitStatus(within: 60), 0, daemon.stderr)
        return (daemon, wav)
    }

    func testEventRecordNamesAClipThatHoldsTheInput() throws {
        let clips = directory.appendingPathComponent("clips")
        let (daemon, wav) = try run(clips: clips.path)
        let event = try XCTUnwrap(daemon.records().first { $0["type"] as? String == "event" }, daemon.stdout)
        let path = try XCTUnwrap(event["clip"] as? String, "\(event)")
        XCTAssertTrue(path.hasPrefix(clips.path + "/"), path)
        XCTAssertTrue(path.hasSuffix("-Tone_1_kHz.wav"), path)
        let start = Int((try XCTUnwrap(event["start"] as? Double) * 16000).rounded())
        let end = Int((try XCTUnwrap(event["end"] as? Double) * 16000).rounded())
        let input = try samples(wav), clip = try samples(URL(fileURLWithPath: path))
        XCTAssertEqual(clip.count, end - start + 2 * 16000, "1.5 s before and 0.5 s after the event")
        XCTAssertEqual(clip, Array(input[(start - 24000) ..< (end + 8000)]), "the input's samples, bit for bit")
        XCTAssertTrue(daemon.stderr.contains("1 clips, 0 clips failed"), daemon.stderr)
    }

    /// `format: flac`: the same samples, decoded by Debian's `flac` (the reference decoder).
    func testFLACClipDecodesToTheInputsSamples() throws {
        let clips = directory.appendingPathComponent("clips")
        let (daemon, wav) = try run(clips: clips.path, format: "flac")
        let event = try XCTUnwrap(daemon.records().first { $0["type"] as? String == "event" }, daemon.stdout)
        let path = try XCTUnwrap(event["clip"] as? String, "\(event)")
        XCTAssertTrue(path.hasSuffix("-Tone_1_kHz.flac"), path)
        let decoded = directory.appendingPathComponent("decoded.wav")
        let flac = try ToolRun("/usr/bin/flac", ["--decode", "--silent", "--force", "-o", decoded.path, path])
        XCTAssertEqual(flac.status, 0, "flac could not decode \(path): \(flac.failure)")
        let start = Int((try XCTUnwrap(event["start"] as? Double) * 16000).rounded())
        let end = Int((try XCTUnwrap(event["end"] as? Double) * 16000).rounded())
        let input = try samples(wav), clip = try samples(decoded)
        XCTAssertEqual(clip, Array(input[(start - 24000) ..< (end + 8000)]), "the input's samples, bit for bit")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertLessThan(size, clip.count * 2, "smaller than the 16-bit PCM it holds")
    }

    func testUnwritableDirectoryIsLoggedAndCountedAndTaggingGoesOn() throws {
        let blocked = directory.appendingPathComponent("blocked")
        try Data("a file where the directory should be".utf8).write(to: blocked)
        let (daemon, _) = try run(clips: blocked.appendingPathComponent("clips").path)
        XCTAssertTrue(daemon.records().contains { $0["type"] as? String == "event" }, daemon.stdout)
        XCTAssertTrue(daemon.stderr.contains("clip of Tone 1 kHz not written"), daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("0 clips, 1 clips failed"), daemon.stderr)
    }

    func testBadClipsSettingsNameTheKey() throws {
        let config = directory.appendingPathComponent("config.yaml")
        try "clips:\n  directory: /tmp/x\n  format: mp3\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["run", "--config", config.path, "--model", Daemon.testModel])
        XCTAssertNotEqual(daemon.exitStatus(within: 10), 0)
        XCTAssertTrue(daemon.stderr.contains("config.yaml:3: clips.format: 'mp3' is not wav or flac"), daemon.stderr)
    }
}
