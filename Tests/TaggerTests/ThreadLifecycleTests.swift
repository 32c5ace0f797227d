import Foundation
import Logging
import MAST
@testable import Tagger
import XCTest

/// Every blocking stage has one lifecycle (WorkerThread): building it starts no thread,
/// `start()` starts exactly its one, and finishing it ends that thread. Counted by name in
/// /proc/self/task, so a stage that started its thread in its initialiser (as they all did)
/// or left it running fails here.
final class ThreadLifecycleTests: XCTestCase {
    static let names = ["mast-inference", "mast-stdout", "mast-clips"]

    /// Threads of this process per name, for the names above.
    static func threads() -> [String: Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var counts = Dictionary(uniqueKeysWithValues: names.map { ($0, 0) })
        for task in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8) else { continue }
            let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
            if counts[name] != nil { counts[name]! += 1 }
        }
        return counts
    }

    /// Waits up to 2 s for `condition` (a thread is named once it runs, and exits a moment after
    /// its join returns).
    func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date() + 2
        while !condition() && Date() < deadline { usleep(10_000) }
        return condition()
    }

    func testStagesStartTheirThreadInStartAndEndItInFinish() throws {
        let model = try Model(path: Bundle.module.url(forResource: "test-tones", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(Glibc.pipe(&pipe), 0)
        defer { close(pipe[0]); close(pipe[1]) }
        var clipSettings = TaggerConfig.Clips()
        clipSettings.directory = FileManager.default.temporaryDirectory.appendingPathComponent("mast-lifecycle-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: clipSettings.directory) }

        let before = Self.threads()
        let tagger = try StreamTagger(model: model, settings: StreamTagger.Settings(hopFrames: 50)) { _ in }
        let sink = StdoutSink(fileDescriptor: pipe[1], backpressure: .drop)
        let clips = ClipRecorder(settings: clipSettings, sampleRate: 16000, delaySeconds: 1, logger: Logger(label: "test"))
        XCTAssertEqual(Self.threads(), before, "a stage started a thread before start()")

        tagger.start()
        sink.start()
        clips.start()
        // A new thread takes its name once it runs: a moment after start().
        let started = before.mapValues { $0 + 1 }
        XCTAssertTrue(eventually { Self.threads() == started }, "after start(): \(Self.threads()), before \(before)")

        tagger.finish()
        XCTAssertTrue(sink.finish(timeout: .seconds(5)))
        clips.finish()
        XCTAssertTrue(eventually { Self.threads() == before }, "threads left after finishing: \(Self.threads()), before \(before)")
    }

    /// A stage never started holds nothing and finishes at once (a reload that fails after
    /// building its tagger, a pipeline that could not open its input).
    func testAStageNeverStartedFinishesAtOnce() throws {
        let model = try Model(path: Bundle.module.url(forResource: "test-tones", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
        let before = Self.threads()
        for _ in 0 ..< 100 {
            let tagger = try StreamTagger(model: model, settings: StreamTagger.Settings(hopFrames: 50)) { _ in }
            tagger.finish()
        }
        XCTAssertEqual(Self.threads(), before)
    }
}
