import Foundation
import XCTest

/// The HTTP endpoint against the running binary: status codes and bodies, the Prometheus text
/// parsed strictly (`PrometheusText`) and by Prometheus's Python client, counters that rise, the
/// errors a bad `http.listen` gives, and load (many clients, a stuck live page) that must not
/// slow tagging.
final class HTTPTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    @discardableResult
    func config(_ text: String) throws -> String {
        let url = directory.appendingPathComponent("config.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func toneFile(seconds: Double = 120, toneStart: Double = 0, toneEnd: Double = 120) throws -> String {
        let url = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(url, seconds: seconds, toneStart: toneStart, toneEnd: toneEnd)
        return url.path
    }

    /// A daemon tagging a WAV at real time with the HTTP server on `port`, once it answers.
    func serving(port: Int, yaml: String = "tags: {top_k: 2}\n", wav: String? = nil) throws -> Daemon {
        let path = try config(yaml)
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "wav:\(try wav ?? toneFile())",
                                 "--http", "127.0.0.1:\(port)"])
        XCTAssertTrue(daemon.wait(for: 15) { (try? HTTPClient.get(port: port, "/health").status) == 200 }, daemon.stderr)
        return daemon
    }

    func metrics(_ port: Int) throws -> PrometheusText {
        let reply = try HTTPClient.get(port: port, "/metrics")
        XCTAssertEqual(reply.status, 200)
        XCTAssertTrue(reply.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") ?? false, "\(reply.headers)")
        return try PrometheusText(reply.body)
    }

    func json(_ reply: HTTPClient.Reply) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any], reply.body)
    }

    func testEndpointsAnswerAndCountersRise() throws {
        let port = try HTTPClient.freePort()
        // A tone from 2 s to 4 s: one event of the test model's tone class.
        let daemon = try serving(port: port, yaml: "tags: {top_k: 2}\nevents: {exclude: [Silence]}\n",
                                 wav: toneFile(seconds: 120, toneStart: 2, toneEnd: 4))

        let health = try HTTPClient.get(port: port, "/health")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(try json(health)["ok"] as? Bool, true, health.body)

        XCTAssertTrue(daemon.wait(for: 15) { daemon.records().contains { $0["type"] as? String == "event" } }, daemon.stdout)
        let first = try metrics(port)
        for name in ["mast_tagger_audio_seconds_total", "mast_tagger_windows_total", "mast_tagger_dropped_windows_total",
                     "mast_tagger_overrun_samples_total", "mast_tagger_xruns_total", "mast_tagger_reopens_total",
                     "mast_tagger_http_live_dropped_total"] {
            XCTAssertEqual(first.types[name], "counter", name)
        }
        XCTAssertEqual(first.types["mast_tagger_inference_seconds"], "histogram")
        XCTAssertEqual(first.types["mast_tagger_input_rms_dbfs"], "gauge")
        XCTAssertEqual(first.value("mast_tagger_reloads_total", ["result": "ok"]), 0)
        XCTAssertEqual(first.value("mast_tagger_dropped_windows_total"), 0)
        XCTAssertGreaterThan(first.value("mast_tagger_inference_seconds_count") ?? 0, 0)
        let events = first.samples.filter { $0.name == "mast_tagger_events_total" }
        XCTAssertEqual(events.count, 1, "\(events)")
        XCTAssertEqual(events.first?.value, 1)
        // The tone is 0.3 × full scale: RMS −13.5 dBFS; the last window has tone or near silence.
        XCTAssertLessThanOrEqual(first.value("mast_tagger_input_peak_dbfs") ?? 1, 0)

        Thread.sleep(forTimeInterval: 2.5)
        let second = try metrics(port)
        for name in ["mast_tagger_audio_seconds_total", "mast_tagger_windows_total", "mast_tagger_inference_seconds_count"] {
            XCTAssertGreaterThan(second.value(name) ?? 0, first.value(name) ?? .infinity, name)
        }
        XCTAssertGreaterThan(second.value("mast_tagger_records_total", ["type": "tags"]) ?? 0,
                             first.value("mast_tagger_records_total", ["type": "tags"]) ?? .infinity)
        // Standard output is read (by this test), so it wrote what was made, up to the lines in
        // flight (either way: a line is counted as made just after the sink has taken it).
        let made = ["onset", "event", "tags"].compactMap { second.value("mast_tagger_records_total", ["type": $0]) }.reduce(0, +)
        let written = try XCTUnwrap(second.value("mast_tagger_output_records_total", ["output": "stdout"]))
        XCTAssertGreaterThan(written, first.value("mast_tagger_output_records_total", ["output": "stdout"]) ?? .infinity)
        XCTAssertLessThanOrEqual(abs(written - made), 5, "written \(written), made \(made)")

        let now = try json(HTTPClient.get(port: port, "/api/now"))
        XCTAssertEqual((now["events"] as? [[String: Any]])?.count, 1, "\(now)")
        XCTAssertFalse((now["top"] as? [[String: Any]] ?? []).isEmpty, "\(now)")
        XCTAssertNotNil((now["level"] as? [String: Any])?["rms_dbfs"] as? Double, "\(now)")

        let page = try HTTPClient.get(port: port, "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("EventSource(\"api/live\")"))
        // Self-contained: nothing fetched from elsewhere.
        XCTAssertNil(page.body.range(of: #"(src|href)\s*=\s*"?(https?:)?//"#, options: .regularExpression))
        XCTAssertEqual(try HTTPClient.get(port: port, "/no/such/page").status, 404)
        XCTAssertEqual(try HTTPClient.get(port: port, "/metrics", timeout: 10).status, 200)

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    /// The metrics as Prometheus's own Python client parses them (`prometheus_client.parser`, in
    /// the venv that `make deps` makes): every family has a type and help, the counters and the
    /// histogram come through whole, and the values are the ones the strict parser reads.
    func testMetricsParseWithPrometheusClient() throws {
        let python = Daemon.repository.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw XCTSkip("no .venv (make deps makes it, with prometheus_client)")
        }
        let port = try HTTPClient.freePort()
        let daemon = try serving(port: port, yaml: "events: {exclude: [Silence]}\n", wav: toneFile(seconds: 120, toneStart: 1, toneEnd: 3))
        XCTAssertTrue(daemon.wait(for: 15) { daemon.records().contains { $0["type"] as? String == "event" } }, daemon.stdout)
        let reply = try HTTPClient.get(port: port, "/metrics")
        let text = directory.appendingPathComponent("metrics.txt")
        try reply.body.write(to: text, atomically: true, encoding: .utf8)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)

        // Families by name: their type, help and samples ([name, labels, value]).
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            families = {f.name: {"type": f.type, "help": f.documentation,
                                 "samples": [[s.name, s.labels, s.value] for s in f.samples]}
                        for f in text_string_to_metric_families(open(sys.argv[1]).read())}
            print(json.dumps(families))
            """
        let parser = try ToolRun(python.path, ["-c", script, text.path])
        XCTAssertEqual(parser.status, 0, "prometheus_client refused the text: \(parser.stderr)\n\(reply.body)")
        let families = try XCTUnwrap(JSONSerialization.jsonObject(with: parser.stdout) as? [String: [String: Any]], parser.stderr)
        let strict = try PrometheusText(reply.body)

        for (name, family) in families {
            XCTAssertFalse((family["help"] as? String ?? "").isEmpty, "\(name) has no HELP")
        }
        // prometheus_client names a counter's family without `_total`.
        for name in ["audio_seconds", "windows", "dropped_windows", "records", "events", "output_records", "reloads"] {
            XCTAssertEqual(families["mast_tagger_" + name]?["type"] as? String, "counter", name)
        }
        XCTAssertEqual(families["mast_tagger_input_rms_dbfs"]?["type"] as? String, "gauge")
        let histogram = try XCTUnwrap(families["mast_tagger_inference_seconds"])
        XCTAssertEqual(histogram["type"] as? String, "histogram")
        let samples = try XCTUnwrap(histogram["samples"] as? [[Any]])
        let buckets = samples.filter { $0[0] as? String == "mast_tagger_inference_seconds_bucket" }.compactMap { $0[2] as? Double }
        XCTAssertEqual(buckets.count, 14, "13 bounds and +Inf")
        XCTAssertEqual(buckets, buckets.sorted(), "buckets are cumulative")
        let count = samples.first { $0[0] as? String == "mast_tagger_inference_seconds_count" }?[2] as? Double
        XCTAssertEqual(count, buckets.last)
        XCTAssertEqual(count, strict.value("mast_tagger_inference_seconds_count"))
        let windows = (families["mast_tagger_windows"]?["samples"] as? [[Any]])?.first?[2] as? Double
        XCTAssertGreaterThan(windows ?? 0, 0)
        XCTAssertEqual(windows, strict.value("mast_tagger_windows_total"))
        let events = try XCTUnwrap(families["mast_tagger_events"]?["samples"] as? [[Any]])
        XCTAssertEqual(events.count, 1, "\(events)")
        XCTAssertEqual(events.first?[2] as? Double, 1)
        XCTAssertEqual((events.first?[1] as? [String: String])?["label"], "Tone 1 kHz")
    }

    /// Each `tags` record carries its window's level: a 0.3 full-scale sine is −13.5 dBFS RMS
    /// and −10.5 dBFS peak.
    func testTagsRecordsCarryTheWindowLevel() throws {
        let path = try config("tags: {top_k: 1}\ninput: {realtime: false}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel,
                                 "--input", "wav:\(try toneFile(seconds: 12, toneStart: 0, toneEnd: 12))"])
        XCTAssertEqual(daemon.exitStatus(within: 60), 0, daemon.stderr)
        let tags = daemon.records().filter { $0["type"] as? String == "tags" }
        XCTAssertFalse(tags.isEmpty)
        for record in tags {
            XCTAssertEqual(try XCTUnwrap(record["rms_dbfs"] as? Double), 20 * log10(0.3 / 2.0.squareRoot()), accuracy: 0.1, "\(record)")
            XCTAssertEqual(try XCTUnwrap(record["peak_dbfs"] as? Double), 20 * log10(0.3), accuracy: 0.1, "\(record)")
        }
    }

    func testHealthIs503WhenNoAudioComes() throws {
        let port = try HTTPClient.freePort()
        let path = try config("http: {health_seconds: 1}\ninput: {stdin_live: true}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "stdin", "--http", "127.0.0.1:\(port)"])
        var reply: HTTPClient.Reply?
        XCTAssertTrue(daemon.wait(for: 15) {
            reply = try? HTTPClient.get(port: port, "/health")
            return reply?.status == 503 && reply?.body.contains("no audio for 1.0 s") == true
        }, "\(String(describing: reply)) \(daemon.stderr)")
        XCTAssertEqual(try json(XCTUnwrap(reply))["ok"] as? Bool, false)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    func testBadAddressAndPortInUseNameTheKeyAndLine() throws {
        let bad = try Daemon(["run", "--config", try config("http:\n  listen: \"8080\"\n"), "--model", Daemon.testModel])
        XCTAssertNotEqual(bad.exitStatus(within: 10), 0)
        XCTAssertTrue(bad.stderr.contains("config.yaml:2: http.listen: '8080': not HOST:PORT"), bad.stderr)

        let flag = try Daemon(["run", "--model", Daemon.testModel, "--http", "127.0.0.1:99999"])
        XCTAssertNotEqual(flag.exitStatus(within: 10), 0)
        XCTAssertTrue(flag.stderr.contains("http.listen: '127.0.0.1:99999': port '99999' is not 1…65535"), flag.stderr)

        // A port in use: found when the server binds, reported with the key's line in the file.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        let port = try HTTPClient.freePort()
        var address = HTTPClient.loopback(port: port)
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }, 0)
        XCTAssertEqual(listen(holder, 1), 0)
        let path = try config("tags: {top_k: 1}\nhttp:\n  listen: 127.0.0.1:\(port)\n")
        let busy = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "wav:\(try toneFile(seconds: 30))"])
        XCTAssertNotEqual(busy.exitStatus(within: 15), 0)
        XCTAssertTrue(busy.stderr.contains("config.yaml:3: http.listen: cannot listen on 127.0.0.1:\(port): address already in use"), busy.stderr)
    }

    /// `http.listen` takes effect at restart: a reload that changes it says so and the server
    /// stays where it was; other keys reload.
    func testReloadKeepsTheServer() throws {
        let port = try HTTPClient.freePort(), other = try HTTPClient.freePort()
        let path = try config("tags: {top_k: 1}\nhttp: {listen: \"127.0.0.1:\(port)\"}\n")
        let daemon = try Daemon(["run", "--config", path, "--model", Daemon.testModel, "--input", "wav:\(try toneFile())"])
        XCTAssertTrue(daemon.wait(for: 15) { (try? HTTPClient.get(port: port, "/health").status) == 200 }, daemon.stderr)
        try config("tags: {top_k: 2}\nhttp: {listen: \"127.0.0.1:\(other)\"}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("configuration reloaded") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("http.listen changed to '127.0.0.1:\(other)': takes effect at restart"), daemon.stderr)
        XCTAssertEqual(try HTTPClient.get(port: port, "/health").status, 200)
        XCTAssertThrowsError(try HTTPClient.get(port: other, "/health"))
        XCTAssertEqual(try metrics(port).value("mast_tagger_reloads_total", ["result": "ok"]), 1)

        try config("tags: {top_k: 2}\nhttp: {listen: \"127.0.0.1:\(port)\", live_clients: 0}\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.wait(for: 10) { daemon.stderr.contains("http.live_clients: must be within") }, daemon.stderr)
        XCTAssertEqual(try metrics(port).value("mast_tagger_reloads_total", ["result": "failed"]), 1)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    /// 50 clients scraping at once and a live page that never reads: tagging keeps real time
    /// (windows go on at one a second, none dropped), and the page's losses are counted.
    func testManyClientsAndAStuckLivePageDoNotSlowTagging() throws {
        let port = try HTTPClient.freePort()
        let daemon = try serving(port: port, yaml: "tags: {top_k: 2}\nhttp: {live_buffer: 2, live_seconds: 0.05}\n")

        // The stuck page: asks for the feed with a tiny receive buffer, then never reads.
        let stuck = try HTTPClient.connect(port: port, receiveBuffer: 1024)
        defer { close(stuck) }
        try HTTPClient.send(stuck, HTTPClient.request("/api/live"))

        let before = try metrics(port)
        let started = Date()
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 50) { i in
            for _ in 0 ..< 6 {
                let path = ["/metrics", "/api/now", "/health", "/", "/nope"][i % 5]
                if let reply = try? HTTPClient.get(port: port, path), reply.status == (path == "/nope" ? 404 : 200) { continue }
                failures.add()
            }
        }
        Thread.sleep(forTimeInterval: max(0, 6 - Date().timeIntervalSince(started)))
        let after = try metrics(port)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(failures.value, 0, "requests that failed")
        XCTAssertEqual(after.value("mast_tagger_dropped_windows_total"), 0)
        XCTAssertEqual(after.value("mast_tagger_overrun_samples_total"), 0)
        // Real time: audio advanced with the clock (a hop of 1 s: a window a second).
        let audio = (after.value("mast_tagger_audio_seconds_total") ?? 0) - (before.value("mast_tagger_audio_seconds_total") ?? 0)
        XCTAssertGreaterThan(audio, elapsed - 1.5, "audio fell behind the clock")
        let windows = (after.value("mast_tagger_windows_total") ?? 0) - (before.value("mast_tagger_windows_total") ?? 0)
        XCTAssertGreaterThanOrEqual(windows, (elapsed - 2).rounded(.down))
        XCTAssertEqual(after.value("mast_tagger_http_live_clients"), 1)
        // Once the page's socket buffers are full, its updates are dropped and counted.
        XCTAssertTrue(daemon.wait(for: 20) { ((try? metrics(port))?.value("mast_tagger_http_live_dropped_total") ?? 0) > 0 })
        XCTAssertEqual(try metrics(port).value("mast_tagger_dropped_windows_total"), 0)

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, "a stuck page held up shutdown: \(daemon.stderr)")
        // Not lost silently: the summary counts them too.
        let dropped = daemon.stderr.firstMatch(of: /([0-9]+) dropped live page updates/).flatMap { Int($0.1) }
        XCTAssertGreaterThan(dropped ?? 0, 0, daemon.stderr)
    }

    /// A request with 200 KB of headers is refused (the parser's limit) and its connection
    /// closed, as is one that sends nothing, after the idle timeout; the server goes on answering.
    func testHugeHeadersAndSilentClientsAreClosed() throws {
        let port = try HTTPClient.freePort()
        let daemon = try serving(port: port)
        let huge = try HTTPClient.connect(port: port), silent = try HTTPClient.connect(port: port)
        defer { close(huge); close(silent) }
        let started = Date()
        try? HTTPClient.send(huge, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n")
        for fd in [huge, silent] {
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var reply = [UInt8](), buffer = [UInt8](repeating: 0, count: 4096)
            while true {  // until the server closes (0) or the 30 s receive timeout (-1)
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 {
                    XCTAssertEqual(n, 0, "still open after 30 s")
                    break
                }
                reply += buffer.prefix(n)
            }
            XCTAssertFalse(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 200"), "accepted")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), Double(25), "closed by the idle timeout (10 s)")
        XCTAssertEqual(try HTTPClient.get(port: port, "/health").status, 200)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }

    /// `http.live_clients` pages at once; one more is refused with 503.
    func testLivePagesAreCapped() throws {
        let port = try HTTPClient.freePort()
        let daemon = try serving(port: port, yaml: "http: {live_clients: 2}\n")
        let pages = try (0 ..< 2).map { _ in try HTTPClient.connect(port: port) }
        defer { pages.forEach { close($0) } }
        for page in pages {
            try HTTPClient.send(page, HTTPClient.request("/api/live"))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(page, &buffer, buffer.count, 0)
            XCTAssertGreaterThan(n, 0)
            let text = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self)
            XCTAssertTrue(text.hasPrefix("HTTP/1.1 200"), text)
            XCTAssertTrue(text.contains("text/event-stream"), text)
        }
        XCTAssertTrue(daemon.wait(for: 5) { (try? metrics(port).value("mast_tagger_http_live_clients")) == 2 })
        XCTAssertEqual(try HTTPClient.get(port: port, "/api/live").status, 503)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, daemon.stderr)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
