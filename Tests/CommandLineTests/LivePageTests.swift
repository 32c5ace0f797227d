import Foundation
import XCTest

/// The live page in a real browser (headless Chromium, Debian's `chromium`, installed by `make
/// deps`), driven through the DevTools protocol: it loads, its feed delivers live updates that
/// it draws, and a screenshot shows it. With MAST_SCREENSHOT_DIR=docs the screenshot is written
/// where README.md shows it.
final class LivePageTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Daemon.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testPageReceivesLiveUpdatesAndDrawsThem() throws {
        guard DevTools.binary != nil else { throw XCTSkip("chromium is not installed (make deps installs it)") }
        let port = try HTTPClient.freePort()
        let wav = directory.appendingPathComponent("tone.wav")
        try Daemon.writeToneWAV(wav, seconds: 120, toneStart: 1, toneEnd: 3)
        let config = directory.appendingPathComponent("config.yaml")
        try "events: {exclude: [Silence]}\nhttp: {live_seconds: 0.1}\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["run", "--config", config.path, "--model", Daemon.testModel, "--input", "wav:\(wav.path)",
                                 "--http", "127.0.0.1:\(port)"])
        XCTAssertTrue(daemon.wait(for: 15) { (try? HTTPClient.get(port: port, "/health").status) == 200 }, daemon.stderr)
        // An event for the timeline and the list before the browser looks.
        XCTAssertTrue(daemon.wait(for: 15) { daemon.records().contains { $0["type"] as? String == "event" } }, daemon.stdout)

        let browser = try DevTools(url: "http://127.0.0.1:\(port)/", profile: directory.appendingPathComponent("profile"))
        func updates() -> Int { (try? browser.evaluate("Number(document.body.dataset.updates)") as? Int) ?? 0 }
        func frames() -> Int { (try? browser.evaluate("Number(document.body.dataset.frames)") as? Int) ?? 0 }
        // The hello, then live updates (every 0.1 s), with the frames heard since the page came.
        XCTAssertTrue(daemon.wait(for: 20) { updates() >= 5 }, "updates drawn: \(updates())")
        XCTAssertTrue(daemon.wait(for: 20) { frames() > 100 }, "spectrogram frames: \(frames())")
        XCTAssertEqual(try browser.evaluate("document.getElementById('state').textContent") as? String, "live")
        XCTAssertEqual(try browser.evaluate("document.querySelectorAll('#top .bar').length") as? Int, 4, "the test model's four classes as bars")
        XCTAssertTrue((try browser.evaluate("document.getElementById('events').textContent") as? String ?? "").contains("Tone 1 kHz"))
        XCTAssertTrue((try browser.evaluate("document.getElementById('rms').textContent") as? String ?? "").hasSuffix("dBFS"))
        // The spectrogram has been painted: its right edge is not all black.
        let painted = try browser.evaluate("""
            (() => { const c = document.getElementById('spectrogram');
                     const d = c.getContext('2d').getImageData(c.width - 50, 0, 50, c.height).data;
                     let lit = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i+1] + d[i+2] > 60) lit++; return lit; })()
            """) as? Int
        XCTAssertGreaterThan(painted ?? 0, 100)
        let before = updates()
        Thread.sleep(forTimeInterval: 1)
        XCTAssertGreaterThan(updates(), before, "still updating")

        let dir = ProcessInfo.processInfo.environment["MAST_SCREENSHOT_DIR"].map {
            URL(fileURLWithPath: $0, relativeTo: Daemon.repository)
        } ?? directory!
        let png = try browser.screenshot()
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        try png.write(to: dir.appendingPathComponent("live-page.png"))

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.exitStatus(within: 10), 0, "an open page held up shutdown: \(daemon.stderr)")
    }
}
