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
        XCTAssertEqual(problem("threads: 0\n"), "test.yaml:1: threads: must be within 1…64, got 0")
        XCTAssertEqual(problem("input:\n  channel: left\n"),
                       "test.yaml:2: input.channel: 'left' is neither \"mix\" nor a channel number 0…63")
        XCTAssertEqual(problem("windows:\n  queue: 2\n  hop: 0.015\n"),
                       "test.yaml:3: windows.hop: 0.015 s is not a multiple of 0.01 s within 0.01…60.0 s")
        XCTAssertEqual(problem("output: {target: tcp:80}\n"), "test.yaml:1: output.target: 'tcp:80' is neither stdout nor unix:PATH")
        XCTAssertEqual(problem("output:\n  socket_mode: \"0999\"\n"),
                       "test.yaml:2: output.socket_mode: '0999' is not an octal mode like 0660")
        XCTAssertEqual(problem("threads: 1\nprecision: fp16\n"), "test.yaml:2: precision: 'fp16' is not auto, f32 or int8")
    }

    /// Each of these was a crash (a Double → Int trap, an allocation of gigabytes) a few bytes
    /// of YAML away; each is now refused at load with its file, key and line.
    func testEveryNumericKeyIsBoundedAtLoad() {
        let cases: [(yaml: String, expected: String)] = [
            ("input:\n  buffer_seconds: .inf\n", "test.yaml:2: input.buffer_seconds: must be within 0.1…600.0 s, got inf"),
            ("input:\n  buffer_seconds: .nan\n", "test.yaml:2: input.buffer_seconds: must be within 0.1…600.0 s, got nan"),
            ("windows:\n  hop: 1e30\n", "test.yaml:2: windows.hop: 1e+30 s is not a multiple of 0.01 s within 0.01…60.0 s"),
            ("windows:\n  queue: 9223372036854775807\n", "test.yaml:2: windows.queue: must be within 1…100, got 9223372036854775807"),
            ("events:\n  smoothing:\n    windows: 9223372036854775807\n",
             "test.yaml:3: events.smoothing.windows: must be within 1…100, got 9223372036854775807"),
            ("events:\n  smoothing: {n: 9223372036854775807}\n",
             "test.yaml:2: events.smoothing.n: must be within 1…100, got 9223372036854775807"),
            ("events:\n  min_duration: 1e300\n", "test.yaml:2: events.min_duration: must be within 0…3600 seconds, got 1e+300"),
            ("events:\n  merge_gap: -1\n", "test.yaml:2: events.merge_gap: must be within 0…3600 seconds, got -1.0"),
            ("input:\n  stdin_channels: 4000000000\n", "test.yaml:2: input.stdin_channels: must be within 1…64, got 4000000000"),
            ("input:\n  stdin_rate: 99999989\n", "test.yaml:2: input.stdin_rate: must be within 1000…768000 Hz, got 99999989"),
            ("input:\n  rate: 0\n", "test.yaml:2: input.rate: must be within 1000…768000 Hz, got 0"),
            ("input:\n  watchdog_seconds: 1e11\n", "test.yaml:2: input.watchdog_seconds: must be within 0.01…3600.0 s, got 100000000000.0"),
            ("input:\n  retry_initial_seconds: 1e11\n",
             "test.yaml:2: input.retry_initial_seconds: must be within 0.01…3600.0 s, got 100000000000.0"),
            ("input:\n  retry_max_seconds: 0.1\n",
             "test.yaml:2: input.retry_max_seconds: must be within 0.5…3600.0 s (at least retry_initial_seconds), got 0.1"),
            ("threads: 1000000000\n", "test.yaml:1: threads: must be within 1…64, got 1000000000"),
            ("tags:\n  top_k: -1\n", "test.yaml:2: tags.top_k: must be within 0…1000, got -1"),
            ("tags:\n  min_score: 2\n", "test.yaml:2: tags.min_score: must be within 0…1, got 2.0"),
            ("events:\n  classes:\n    Speech: {onset_threshold: 0.2, offset_threshold: 0.4}\n",
             "test.yaml:3: events.classes.Speech.offset_threshold: 0.4 is above the onset threshold 0.2"),
        ]
        for (yaml, expected) in cases { XCTAssertEqual(problem(yaml), expected, yaml) }
    }

    /// Input source, output target, channel and sample format are parsed into types at load.
    func testSourcesAndFormatsAreParsedAtLoad() throws {
        XCTAssertEqual(problem("model: x\ninput:\n  source: bogus\n"),
                       "test.yaml:3: input.source: 'bogus' is not alsa:DEVICE, wav:PATH or stdin")
        XCTAssertEqual(problem("input: {source: \"wav:\"}\n"), "test.yaml:1: input.source: wav: needs a path, e.g. wav:/tmp/a.wav")
        XCTAssertEqual(problem("input:\n  stdin_format: u8\n"),
                       "test.yaml:2: input.stdin_format: 'u8' is not one of s16le, s24le, s32le, f32le")
        let config = try loader.load(yaml: "input: {source: \"wav:/a b.wav\", channel: 1, stdin_format: f32le}\noutput: {target: \"unix:/run/x.sock\"}\n",
                                     file: "test.yaml")
        XCTAssertEqual(config.input.source, .wav(path: "/a b.wav"))
        XCTAssertEqual(config.input.channel, .channel(1))
        XCTAssertEqual(config.input.stdinFormat, .float32LE)
        XCTAssertEqual(config.output.target, .unix(path: "/run/x.sock"))
    }

    /// A configuration is a few kilobytes; a 100 MB file was read whole (1.2 GB resident) and accepted.
    func testAFileOverTheSizeCapIsRefusedUnparsed() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        let line = "# \(String(repeating: "x", count: 1000))\n"
        try String(repeating: line, count: 1100).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loader.load(path: url.path)) {
            XCTAssertEqual("\($0)", "\(url.path): larger than 1024 KiB; not a configuration file")
        }
    }

    /// An error found while building the pipeline (an unknown class) is placed at its line too.
    func testErrorsFoundAfterLoadingArePlacedInTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("late-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try "threads: 1\nevents:\n  include: [Unicorn]\n".write(to: url, atomically: true, encoding: .utf8)
        let error = ConfigError(key: "events.include", reason: "'Unicorn' is neither a class of the model (name or id) nor a group")
        XCTAssertEqual("\(loader.locate(error, inFileAt: url.path))",
                       "\(url.path):3: events.include: 'Unicorn' is neither a class of the model (name or id) nor a group")
    }

    /// A YAML error says where and what, but does not quote the file: `--config /etc/shadow`
    /// echoed its first line into the log.
    func testYAMLErrorsDoNotQuoteTheFile() {
        let message = problem("root: x\ntoken: s3cr3t: more\n")
        XCTAssertTrue(message.hasPrefix("test.yaml:2: not valid YAML: mapping values are not allowed in this context"), message)
        XCTAssertFalse(message.contains("s3cr3t"), message)
    }

    /// A section appended to a file that already has it (`http:` twice) is refused, naming the
    /// key and the second one's line; Yams once gave only "the file could not be parsed".
    func testARepeatedKeyIsNamedWithItsLine() {
        XCTAssertEqual(problem("http:\n  listen: \"\"\nevents:\n  threshold: 0.5\nhttp: {live_clients: 3}\n"),
                       "test.yaml:5: http: appears twice in one mapping (the second would silently win); merge the two")
    }

    func testPrecisionFollowsTheCPU() throws {
        var config = TaggerConfig()
        XCTAssertEqual(try config.matrixPrecision(), Engine.int8Supported ? .int8 : .float32, "auto")
        config.precision = .f32
        XCTAssertEqual(try config.matrixPrecision(), .float32)
        config.precision = .int8
        if Engine.int8Supported {
            XCTAssertEqual(try config.matrixPrecision(), .int8)
        } else {
            XCTAssertThrowsError(try config.matrixPrecision()) { XCTAssert("\($0)".contains("precision: int8 needs an x86-64 CPU with AVX2")) }
        }
    }
}
