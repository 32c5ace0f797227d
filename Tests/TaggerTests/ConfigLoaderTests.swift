import Foundation
import MAST
import Tagger
import XCTest
import Yams

final class ConfigLoaderTests: XCTestCase {
    let loader = TaggerConfig.loader

    func problem(_ yaml: String) -> String {
        do {
            _ = try loader.load(yaml: yaml, file: "test.yaml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testMissingKeysKeepTheirDefaults() throws {
        let config = try loader.load(yaml: "windows:\n  hop: 0.25\n", file: "test.yaml")
        var expected = TaggerConfig()
        expected.windows.hop = 0.25
        XCTAssertEqual(config, expected)
        XCTAssertEqual(try loader.load(yaml: "", file: "empty.yaml"), TaggerConfig())
    }

    func testUnknownKeysAreRejectedWithPathAndLine() {
        XCTAssertEqual(problem("threads: 1\nevents:\n  onset_treshold: 0.4\n"),
                       "test.yaml:3: events.onset_treshold: unknown key (known here: classes, exclude, groups, include, merge_gap, min_duration, offset_threshold, onset_threshold, smoothing)")
        XCTAssertTrue(problem("outptu: {}\n").hasPrefix("test.yaml:1: outptu: unknown key"))
    }

    func testBadValuesNameKeyAndLine() {
        XCTAssertEqual(problem("model: x\nthreads: two\n"), "test.yaml:2: threads: expected an integer")
        XCTAssertEqual(problem("output:\n  format: xml\n"),
                       "test.yaml:2: output.format: Cannot initialize OutputFormat from invalid String value xml")
        XCTAssertEqual(problem("windows: 3\n"), "test.yaml:1: windows: must be a mapping")
        XCTAssertTrue(problem("events: [\n").hasPrefix("test.yaml:2: not valid YAML"), problem("events: [\n"))
    }

    func testUserMapsAreTakenWhole() throws {
        let config = try loader.load(yaml: """
            events:
              groups:
                dog: [Dog, Bark]
              classes:
                Speech: {onset_threshold: 0.7}
            """, file: "test.yaml")
        XCTAssertEqual(config.events.groups, ["dog": ["Dog", "Bark"]])
        XCTAssertEqual(config.events.classes["Speech"]?.onsetThreshold, 0.7)
        XCTAssertNil(config.events.classes["Speech"]?.offsetThreshold)
    }

    /// The shipped config.yaml is valid, holds the defaults, and documents every key there is.
    func testShippedConfigDocumentsEveryKey() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config.yaml").path
        XCTAssertEqual(try loader.load(path: path), TaggerConfig())
        let shipped = try Yams.compose(yaml: String(contentsOfFile: path, encoding: .utf8))!
        let defaults = try Yams.compose(yaml: YAMLEncoder().encode(TaggerConfig()))!
        func keyPaths(_ node: Node, _ prefix: String) -> [String] {
            guard let mapping = node.mapping, !TaggerConfig.freeFormPaths.contains(prefix) else { return [] }
            return mapping.flatMap { key, value -> [String] in
                let path = prefix.isEmpty ? key.string! : "\(prefix).\(key.string!)"
                return [path] + keyPaths(value, path)
            }
        }
        XCTAssertEqual(Set(keyPaths(shipped, "")), Set(keyPaths(defaults, "")))
    }
}

extension ConfigLoaderTests {
    func testOutOfRangeValuesNameKeyAndLine() {
        XCTAssertEqual(problem("threads: 0\n"), "test.yaml:1: threads: must be at least 1")
        XCTAssertEqual(problem("input:\n  channel: left\n"),
                       "test.yaml:2: input.channel: 'left' is neither \"mix\" nor a channel number (0, 1, …)")
        XCTAssertEqual(problem("windows:\n  queue: 2\n  hop: 0.015\n"),
                       "test.yaml:3: windows.hop: 0.015 s is not a positive multiple of 0.01 s")
        XCTAssertEqual(problem("output: {target: tcp:80}\n"), "test.yaml:1: output.target: 'tcp:80' is neither stdout nor unix:PATH")
        XCTAssertEqual(problem("output:\n  socket_mode: \"0999\"\n"),
                       "test.yaml:2: output.socket_mode: '0999' is not an octal mode like 0660")
        XCTAssertEqual(problem("threads: 1\nprecision: fp16\n"), "test.yaml:2: precision: 'fp16' is not auto, f32 or int8")
    }

    func testPrecisionFollowsTheCPU() throws {
        var config = TaggerConfig()
        XCTAssertEqual(try config.matrixPrecision(), Engine.int8Supported ? .int8 : .float32, "auto")
        config.precision = "f32"
        XCTAssertEqual(try config.matrixPrecision(), .float32)
        config.precision = "int8"
        if Engine.int8Supported {
            XCTAssertEqual(try config.matrixPrecision(), .int8)
        } else {
            XCTAssertThrowsError(try config.matrixPrecision()) { XCTAssert("\($0)".contains("precision: int8 needs an x86-64 CPU with AVX2")) }
        }
    }
}
