import Foundation
import MAST
import NIOConcurrencyHelpers
@testable import Tagger
import XCTest

/// The parts of the HTTP endpoint that need no server: `http.listen` and the section's bounds,
/// window levels, the metrics' counters, and the live feed's bounded buffers (HTTPTests in
/// CommandLineTests runs the server).
final class HTTPPartsTests: XCTestCase {
    func testListenAddresses() throws {
        XCTAssertEqual(try HTTPAddress(parsing: "127.0.0.1:8080"), HTTPAddress(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(try HTTPAddress(parsing: "localhost:1"), HTTPAddress(host: "localhost", port: 1))
        let v6 = try HTTPAddress(parsing: "[::1]:65535")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.description, "[::1]:65535")
        for bad in ["8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "::1:8080",
                    "[::1", "[::1]8080", "a b:80", "http://x:80", "x:-1", String(repeating: "a", count: 254) + ":80"] {
            XCTAssertThrowsError(try HTTPAddress(parsing: bad), bad) { error in
                XCTAssertEqual((error as? ConfigError)?.key, "http.listen", bad)
            }
        }
    }

    func testSectionIsBoundedWithKeyAndLine() {
        let loader = TaggerConfig.loader
        func problem(_ yaml: String) -> String {
            do {
                _ = try loader.load(yaml: yaml, file: "test.yaml")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(problem("http:\n  listen: 127.0.0.1:8080\n"), "no error")
        XCTAssertEqual(problem("http:\n  listen: \"8080\"\n"), "test.yaml:2: http.listen: '8080': not HOST:PORT like 127.0.0.1:8080")
        XCTAssertEqual(problem("http:\n  live_clients: 0\n"), "test.yaml:2: http.live_clients: must be within 1…1000, got 0")
        XCTAssertEqual(problem("http:\n  live_buffer: 100000\n"), "test.yaml:2: http.live_buffer: must be within 1…10000, got 100000")
        XCTAssertEqual(problem("http:\n  live_seconds: .nan\n"), "test.yaml:2: http.live_seconds: must be within 0.05…60.0, got nan")
        XCTAssertEqual(problem("http:\n  health_seconds: .inf\n"), "test.yaml:2: http.health_seconds: must be within 1.0…3600.0, got inf")
        XCTAssertEqual(problem("http:\n  event_minutes: 0\n"), "test.yaml:2: http.event_minutes: must be within 0.1…1440.0, got 0.0")
        XCTAssertTrue(problem("http:\n  port: 80\n").hasPrefix("test.yaml:2: http.port: unknown key"), problem("http:\n  port: 80\n"))
    }

    /// A window's level, summed from 10 ms blocks, equals the level of its samples computed
    /// directly; blocks older than the ring, or in a gap, count for nothing.
    func testBlockLevelsSumToTheWindowLevel() {
        let levels = BlockLevels(blockSamples: 160, capacity: 20, sampleRate: 16000)
        let samples = (0 ..< 4000).map { i in Float(0.5 * sin(Double(i) * 0.01)) * (i >= 1600 ? 0.1 : 1) }
        // Pushed in uneven chunks, as the ring hands them over.
        var position = 0
        for size in [1, 159, 1000, 7, 833, 2000] {
            samples[position ..< position + size].withUnsafeBufferPointer { levels.add($0, at: position) }
            position += size
        }
        func direct(_ range: Range<Int>) -> AudioLevel {
            let slice = samples[range]
            return AudioLevel(sumOfSquares: slice.reduce(0) { $0 + Double($1 * $1) }, peak: slice.map(abs).max()!,
                              count: slice.count, sampleRate: 16000)
        }
        for range in [1600 ..< 4000, 2400 ..< 3200, 3840 ..< 4000] {
            let summed = levels.level(from: range.lowerBound, to: range.upperBound)
            XCTAssertEqual(summed.rmsDecibels, direct(range).rmsDecibels, accuracy: 1e-3, "\(range)")
            XCTAssertEqual(summed.peakDecibels, direct(range).peakDecibels, accuracy: 1e-3, "\(range)")
            XCTAssertEqual(summed.seconds, Double(range.count) / 16000, accuracy: 1e-9)
        }
        // The first 800 samples (5 blocks) have left the ring of 20 blocks: only the kept ones count.
        XCTAssertEqual(levels.level(from: 0, to: 4000).seconds, 3200.0 / 16000, accuracy: 1e-9)
        // After a gap: the new segment's samples only.
        let loud = [Float](repeating: 0.25, count: 320)
        loud.withUnsafeBufferPointer { levels.add($0, at: 8000) }
        let afterGap = levels.level(from: 7680, to: 8320)
        XCTAssertEqual(afterGap.seconds, 320.0 / 16000, accuracy: 1e-9)
        XCTAssertEqual(afterGap.rmsDecibels, 20 * log10(0.25), accuracy: 1e-3)
        XCTAssertEqual(levels.level(from: 100, to: 100).rmsDecibels, AudioLevel.floorDecibels)
    }

    func testTagsRecordsCarryTheLevelInJSONAndText() {
        let level = AudioLevel(sumOfSquares: 0.045 * 100, peak: 0.3, count: 100, sampleRate: 16000)
        let tags = Record.tags(.init(start: 0, end: 1, labels: [.init(label: "Tone", id: "/t", score: 0.5)], level: level))
        let json = RecordEncoder(format: .jsonl).line(tags)
        XCTAssertTrue(json.contains(#""peak_dbfs":-10.46"#), json)
        XCTAssertTrue(json.contains(#""rms_dbfs":-13.47"#), json)
        XCTAssertEqual(RecordEncoder(format: .text).line(tags), "tags 0.000-1.000 Tone 0.50 rms=-13.5 peak=-10.5 dBFS")
        // Without a level (records made before this field, or elsewhere): no fields, as before.
        let plain = RecordEncoder(format: .jsonl).line(.tags(.init(start: 0, end: 1, labels: [])))
        XCTAssertFalse(plain.contains("dbfs"), plain)
    }

    /// Counters fed from the pipeline's totals only rise, also when a reload's new input counts
    /// from zero again (the daemon adds the old input's final counts).
    func testMetricsCountersOnlyRise() throws {
        let metrics = DaemonMetrics()
        var counters = PipelineCounters()
        counters.windows = 10
        counters.audioSeconds = 10.5
        metrics.update(counters)
        counters.windows = 3  // a new input, before the old one's counts are added
        metrics.update(counters)
        counters.windows = 13
        metrics.update(counters)
        metrics.updateOutput("stdout", written: 20, dropped: 4)
        metrics.updateOutput("stdout", written: 15, dropped: 2)
        metrics.updateOutput("socket", written: 7, dropped: 0)
        metrics.receive(.event(.init(label: "Dog \"bark\"", id: "/d", start: 0, end: 1, time: Date(), peak: 0.9)), jsonLine: nil)
        metrics.reloaded(ok: false)
        let text = String(decoding: metrics.text(), as: UTF8.self)
        XCTAssertTrue(text.contains("mast_tagger_windows_total 13\n"), text)
        XCTAssertTrue(text.contains("mast_tagger_audio_seconds_total 10.5\n"), text)
        XCTAssertTrue(text.contains(#"mast_tagger_output_dropped_total{output="stdout"} 4"#), text)
        XCTAssertTrue(text.contains(#"mast_tagger_output_records_total{output="stdout"} 20"#), text)
        XCTAssertTrue(text.contains(#"mast_tagger_output_records_total{output="socket"} 7"#), text)
        XCTAssertTrue(text.contains(#"mast_tagger_events_total{label="Dog \"bark\""} 1"#), text)
        XCTAssertTrue(text.contains(#"mast_tagger_reloads_total{result="failed"} 1"#), text)
        XCTAssertTrue(text.contains(#"mast_tagger_reloads_total{result="ok"} 0"#), text)
        XCTAssertTrue(text.contains("# TYPE mast_tagger_inference_seconds histogram"), text)
    }

    /// A page that never reads: its buffer keeps the newest updates, the rest are dropped and
    /// counted, and offering never waits for it.
    func testStuckPageLosesCountedUpdatesAndNeverBlocks() async throws {
        let view = LiveView(), metrics = DaemonMetrics(), feed = LiveFeed(view: view, metrics: metrics)
        let stuck = try feed.connect(limit: 2, buffer: 3) {}
        let reader = try feed.connect(limit: 2, buffer: 3) {}
        XCTAssertThrowsError(try feed.connect(limit: 2, buffer: 3) {}) { error in
            XCTAssertEqual(error as? LiveFeed.Refusal, .full)
        }
        let started = Date()
        for _ in 0 ..< 1000 { feed.tick() }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        let text = String(decoding: metrics.text(), as: UTF8.self)
        // Two pages × (1 hello + 1000 updates) offered, 3 kept each.
        XCTAssertTrue(text.contains("mast_tagger_http_live_dropped_total 1996\n"), text)
        XCTAssertTrue(text.contains("mast_tagger_http_live_clients 2.0\n") || text.contains("mast_tagger_http_live_clients 2\n"), text)
        var kept = 0
        feed.close()
        for await message in reader {
            XCTAssertTrue(message.hasPrefix("event: update\ndata: {"), message)
            kept += 1
        }
        XCTAssertEqual(kept, 3)
        _ = stuck
        XCTAssertThrowsError(try feed.connect(limit: 2, buffer: 3) {}) { error in
            XCTAssertEqual(error as? LiveFeed.Refusal, .closed)
        }
    }

    /// With no page connected the ticker sleeps (it asks for its interval only before a tick); a
    /// page wakes it, with updates that go on from its hello, and it sleeps again when the page
    /// leaves. Shutdown ends it while it sleeps.
    func testTheTickerSleepsWhileNoPageIsConnected() async throws {
        let feed = LiveFeed(view: LiveView(), metrics: DaemonMetrics())
        let ticks = NIOLockedValueBox(0)
        let ticker = Task { await feed.run { ticks.withLockedValue { $0 += 1 }; return 0.01 } }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(ticks.withLockedValue { $0 }, 0, "ticked with no page connected")

        let page = try feed.connect(limit: 2, buffer: 8) {}
        var messages = page.makeAsyncIterator()
        let hello = await messages.next()
        XCTAssertTrue(hello?.hasPrefix("event: hello\n") == true, hello ?? "nil")
        let update = await messages.next()
        XCTAssertTrue(update?.hasPrefix("event: update\n") == true, update ?? "nil")
        XCTAssertGreaterThan(ticks.withLockedValue { $0 }, 0)

        _ = consume messages
        _ = consume page  // the page leaves: its stream ends, the feed forgets it
        for _ in 0 ..< 500 where feed.clientCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(feed.clientCount, 0, "the page that left is still connected")
        try await Task.sleep(for: .milliseconds(50))  // a tick already asleep may still end
        let after = ticks.withLockedValue { $0 }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(ticks.withLockedValue { $0 }, after, "went on ticking after the page left")

        feed.close()
        await ticker.value  // returns: closing wakes the sleeping ticker
    }

    /// Frames are kept only while a page is connected: none from before the first page (the
    /// daemon pays for frames only while someone looks), the ones since then for a page that
    /// joins it, and none from an earlier watch for a page that comes after all have left.
    func testTheViewKeepsFramesOnlyWhileAPageWatches() async throws {
        let model = try Model(path: Bundle.module.url(forResource: "test-tones", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
        let view = LiveView(), feed = LiveFeed(view: view, metrics: DaemonMetrics())
        view.configure(model: model, eventMinutes: 10)
        let melBins = model.fbank.numMelBins
        func push(_ count: Int) {
            let mel = [Float](repeating: -4, count: melBins)
            for _ in 0 ..< count { mel.withUnsafeBufferPointer { view.frame($0) } }
        }
        /// The frames an SSE message carries.
        func frames(_ message: String?) throws -> Int {
            let text = try XCTUnwrap(message)
            let json = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("data: ") }).dropFirst(6)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return try XCTUnwrap(Data(base64Encoded: XCTUnwrap(object["mel"] as? String))).count / melBins
        }

        push(50)  // nobody watches
        XCTAssertEqual(view.framesStored, 0, "stored frames with no page connected")
        var first: AsyncStream<String>? = try feed.connect(limit: 4, buffer: 8) {}
        var firstMessages = first!.makeAsyncIterator()
        let firstHello = await firstMessages.next()
        XCTAssertEqual(try frames(firstHello), 0, "frames kept before any page came")
        push(30)
        feed.tick()
        let update = await firstMessages.next()
        XCTAssertEqual(try frames(update), 30)
        var second: AsyncStream<String>? = try feed.connect(limit: 4, buffer: 8) {}
        var secondMessages = second!.makeAsyncIterator()
        let secondHello = await secondMessages.next()
        XCTAssertEqual(try frames(secondHello), 30, "a page that joins gets the frames since the first came")

        _ = consume firstMessages
        _ = consume secondMessages
        first = nil
        second = nil
        for _ in 0 ..< 500 where feed.clientCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(feed.clientCount, 0, "the pages that left are still connected")
        push(20)  // nobody watches again
        XCTAssertEqual(view.framesStored, 30, "stored frames after the last page left")
        let third = try feed.connect(limit: 4, buffer: 8) {}
        var thirdMessages = third.makeAsyncIterator()
        let thirdHello = await thirdMessages.next()
        XCTAssertEqual(try frames(thirdHello), 0, "a later page got frames of an earlier watch, or of no watch")
        feed.close()
    }

    /// Right after a reload the old model's last windows still arrive: they are named by their
    /// own model's classes, not the new one's (which once named them, or dropped them when the
    /// class counts differed).
    func testLiveTopClassesAreNamedByTheWindowsOwnModel() {
        let view = LiveView()
        let old = [ClassLabel(name: "Old dog", id: "/o1"), ClassLabel(name: "Old cat", id: "/o2")]
        func window(_ classes: [ClassLabel], _ probabilities: [Float]) -> WindowResult {
            WindowResult(startSample: 0, endSample: 16000, probabilities: probabilities, classes: classes, embedding: nil,
                         level: nil, inferenceSeconds: 0.01)
        }
        view.window(window(old, [0.2, 0.9]))
        XCTAssertEqual(view.snapshot().top.map(\.label), ["Old cat", "Old dog"])
        let new = [ClassLabel(name: "New bird", id: "/n1"), ClassLabel(name: "New car", id: "/n2"), ClassLabel(name: "New rain", id: "/n3")]
        view.window(window(new, [0.1, 0.3, 0.8]))
        XCTAssertEqual(view.snapshot().top.first?.label, "New rain")
        view.window(window(old, [0.7, 0.1]))  // the old model's last window, after the new one's first
        XCTAssertEqual(view.snapshot().top.first?.label, "Old dog")
    }
}
