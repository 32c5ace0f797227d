import Foundation
import Prometheus

/// The daemon's Prometheus metrics, in a registry of its own (no process-wide bootstrap): what
/// `/metrics` serves.
///
/// Two kinds of source: counts the pipeline already keeps (audio, windows, drops, xruns…) are
/// brought up to date when scraped (`update`), and what happens per record or per window
/// (events per label, inference time, level) is recorded as it happens, by `receive` (a
/// `RecordListener`) and `window` (a `WindowObserver`), each a few increments under the
/// registry's short lock.
public final class DaemonMetrics: RecordListener, WindowObserver, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()

    private let audioSeconds: Counter
    private let windows: Counter
    private let droppedWindows: Counter
    private let overrunSamples: Counter
    private let xruns: Counter
    private let reopens: Counter
    private let clipsWritten: Counter
    private let clipsFailed: Counter
    private let inferenceSeconds: DurationHistogram
    private let rms: Gauge
    private let peak: Gauge
    public let liveClients: Gauge
    private let liveDropped: Counter

    private let lock = NSLock()
    // Guarded by `lock`:
    /// What the counters fed by `update` have been advanced to (they only ever go up, even when
    /// a reload's new input starts its own counts from zero: the daemon sums them).
    private var exported = PipelineCounters()
    /// Counters with one label (records by type, events by label, outputs), made on first use,
    /// by name and label value.
    private var labelled: [LabelledKey: Counter] = [:]
    /// Where the labelled counters fed by `updateOutput` have been advanced to.
    private var labelledExported: [LabelledKey: Int] = [:]
    private var liveDrops = 0

    private struct LabelledKey: Hashable {
        let name: String
        let value: String
    }

    /// `mast_tagger_<name>`, where the name ends in its unit (`_total`, `_seconds`, `_dbfs`), with its HELP text.
    static func metric(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "mast_tagger", metricName: name, unitName: "", helpText: help)
    }

    public init() {
        let registry = self.registry
        func counter(_ name: String, _ help: String) -> Counter { registry.makeCounter(descriptor: Self.metric(name, help: help)) }
        audioSeconds = counter("audio_seconds_total", "Seconds of audio the feature stage has taken in.")
        windows = counter("windows_total", "Windows the model has classified.")
        droppedWindows = counter("dropped_windows_total", "Windows dropped because the model fell behind.")
        overrunSamples = counter("overrun_samples_total", "Samples dropped because the feature stage fell behind.")
        xruns = counter("xruns_total", "Capture overruns reported by the audio device.")
        reopens = counter("reopens_total", "Times the capture device was reopened.")
        let clipsHelp = "Clips of events (clips.directory), by result: written, or failed (logged)."
        clipsWritten = registry.makeCounter(descriptor: Self.metric("clips_total", help: clipsHelp), labels: [("result", "written")])
        clipsFailed = registry.makeCounter(descriptor: Self.metric("clips_total", help: clipsHelp), labels: [("result", "failed")])
        // 1 ms … 10 s: a window takes a few milliseconds on the streaming models, seconds on AST.
        inferenceSeconds = registry.makeDurationHistogram(
            descriptor: Self.metric("inference_seconds", help: "Time the model took per window."),
            buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10].map { Duration.milliseconds($0 * 1000) })
        rms = registry.makeGauge(descriptor: Self.metric("input_rms_dbfs", help: "RMS level of the last window, dBFS (floor -120)."))
        peak = registry.makeGauge(descriptor: Self.metric("input_peak_dbfs", help: "Peak level of the last window, dBFS (floor -120)."))
        rms.set(AudioLevel.floorDecibels)
        peak.set(AudioLevel.floorDecibels)
        liveClients = registry.makeGauge(descriptor: Self.metric("http_live_clients", help: "Live pages connected."))
        liveDropped = counter("http_live_dropped_total", "Live updates dropped for pages that read too slowly.")
        for type in ["onset", "event", "tags"] { _ = recordCounter(type) }
        for ok in [true, false] { _ = reloadCounter(ok: ok) }  // 0 until the first SIGHUP, not absent
    }

    // MARK: Recorded as it happens

    public func receive(_ record: Record, jsonLine: String?) {
        switch record {
        case .onset: recordCounter("onset").increment()
        case .event(let event):
            recordCounter("event").increment()
            eventCounter(event.label).increment()
        case .tags: recordCounter("tags").increment()
        case .summary: break  // `tag` only
        }
    }

    public func window(_ result: WindowResult) {
        inferenceSeconds.recordNanoseconds(Int64(result.inferenceSeconds * 1e9))
        if let level = result.level {
            rms.set(level.rmsDecibels)
            peak.set(level.peakDecibels)
        }
    }

    private func recordCounter(_ type: String) -> Counter {
        lock.withLock { labelledCounter("records_total", "type", type, help: "Records made, by type (each goes to every output).") }
    }

    private func eventCounter(_ label: String) -> Counter {
        // As many series as the model has classes, at most.
        lock.withLock { labelledCounter("events_total", "label", label, help: "Events (a class on, then off), by label.") }
    }

    /// The counter `name{label="value"}`, made on first use (`lock` held).
    private func labelledCounter(_ name: String, _ label: String, _ value: String, help: String) -> Counter {
        let key = LabelledKey(name: name, value: value)
        if let counter = labelled[key] { return counter }
        let counter = registry.makeCounter(descriptor: Self.metric(name, help: help), labels: [(label, value)])
        labelled[key] = counter
        return counter
    }

    // MARK: Brought up to date when scraped

    /// Advances the pipeline counters to `counters` (which only lower while a reload's old input
    /// is being retired; those moments are skipped, not counted twice).
    public func update(_ counters: PipelineCounters) {
        lock.withLock {
            // Whole counts as integers (exact, and written as such), seconds as floating point.
            func advance(_ counter: Counter, _ old: Int, _ new: Int) {
                if new > old { counter.increment(by: Int64(new - old)) }
            }
            if counters.audioSeconds > exported.audioSeconds { audioSeconds.increment(by: counters.audioSeconds - exported.audioSeconds) }
            advance(windows, exported.windows, counters.windows)
            advance(droppedWindows, exported.droppedWindows, counters.droppedWindows)
            advance(overrunSamples, exported.overrunSamples, counters.overrunSamples)
            advance(xruns, exported.xruns, counters.xruns)
            advance(reopens, exported.reopens, counters.reopens)
            advance(clipsWritten, exported.clipsWritten, counters.clipsWritten)
            advance(clipsFailed, exported.clipsFailed, counters.clipsFailed)
            exported.audioSeconds = max(exported.audioSeconds, counters.audioSeconds)
            exported.windows = max(exported.windows, counters.windows)
            exported.droppedWindows = max(exported.droppedWindows, counters.droppedWindows)
            exported.overrunSamples = max(exported.overrunSamples, counters.overrunSamples)
            exported.xruns = max(exported.xruns, counters.xruns)
            exported.reopens = max(exported.reopens, counters.reopens)
            exported.clipsWritten = max(exported.clipsWritten, counters.clipsWritten)
            exported.clipsFailed = max(exported.clipsFailed, counters.clipsFailed)
        }
    }

    /// What an output (stdout, socket, mqtt) has written and dropped so far: totals the output keeps.
    public func updateOutput(_ output: String, written: Int, dropped: Int) {
        lock.withLock {
            advance("output_records_total", output: output, to: written,
                    help: "Record lines an output delivered: to standard output, to each socket client, as MQTT records messages.")
            advance("output_dropped_total", output: output, to: dropped,
                    help: "What an output dropped: stdout lines, slow socket clients, MQTT messages.")
        }
    }

    /// Advances `name{output=…}` to `total` (`lock` held); never lowers it.
    private func advance(_ name: String, output: String, to total: Int, help: String) {
        let counter = labelledCounter(name, "output", output, help: help)
        let key = LabelledKey(name: name, value: output), old = labelledExported[key] ?? 0
        if total > old { counter.increment(by: Int64(total - old)) }
        labelledExported[key] = max(old, total)
    }

    /// A live page's update dropped (it reads too slowly): counted here and in STATUS=.
    public func liveUpdateDropped() {
        lock.withLock { liveDrops += 1 }
        liveDropped.increment()
    }

    public var liveUpdatesDropped: Int { lock.withLock { liveDrops } }

    /// The reload counter, by result.
    public func reloaded(ok: Bool) { reloadCounter(ok: ok).increment() }

    private func reloadCounter(ok: Bool) -> Counter {
        registry.makeCounter(descriptor: Self.metric("reloads_total", help: "Configuration reloads (SIGHUP), by result."),
                             labels: [("result", ok ? "ok" : "failed")])
    }

    /// The text exposition format.
    public func text() -> [UInt8] { registry.emitToBuffer() }
}
