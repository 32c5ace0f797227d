import Foundation
import XCTest

final class EmbedCommandTests: XCTestCase {
    func testNpyHasOneRowPerWindow() throws {
        let directory = try Daemon.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let wav = directory.appendingPathComponent("tone.wav"), npy = directory.appendingPathComponent("e.npy")
        try Daemon.writeToneWAV(wav, seconds: 3, toneStart: 0, toneEnd: 3)
        let embed = try Daemon(["embed", "--model", Daemon.testModel, "--npy", npy.path, wav.path])
        XCTAssertEqual(embed.exitStatus(within: 15), 0, embed.stderr)
        let data = try Data(contentsOf: npy)
        XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: data[10 ..< 10 + headerLength], as: UTF8.self)
        // 3 s (298 frames) at the default 1 s hop: windows at frames 0 and 100, and one aligned to
        // the end; the test model's embedding is 48 wide.
        XCTAssertTrue(header.contains("'shape': (3, 48)"), header)
        XCTAssertEqual(data.count - 10 - headerLength, 3 * 48 * 4)

        let lines = try Daemon(["embed", "--model", Daemon.testModel, wav.path])
        XCTAssertEqual(lines.exitStatus(within: 15), 0)
        let first = try XCTUnwrap(lines.records().first)
        XCTAssertEqual((first["embedding"] as? [Double])?.count, 48)
        XCTAssertEqual(first["start"] as? Double, 0)
    }
}
