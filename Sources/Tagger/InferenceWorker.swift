import AudioInput
import Foundation
import MAST

/// The model's outputs for one window.
public struct WindowResult: Sendable {
    public let startSample: Int
    public let endSample: Int
    /// Per-class probabilities (sigmoid of the logits: classes are independent, multi-label).
    public let probabilities: [Float]
    /// The classes of the model that made them, in the same order (a reload changes the model
    /// while its last windows are still on their way).
    public let classes: [ClassLabel]
    /// The pooled embedding, when the worker was asked to keep it.
    public let embedding: [Float]?
    /// The window's level (dBFS RMS and peak), when measured.
    public let level: AudioLevel?
    /// Seconds the model took for this window (wall clock, on the inference thread).
    public let inferenceSeconds: Double
}

/// Runs the model on its own thread, so capture and features never wait for inference.
///
/// Pending windows wait in a bounded queue. With `.drop` (live input) a full queue drops
/// its oldest window and counts it, so latency stays bounded when the CPU can't keep up; in
/// `.wait` (files, as fast as possible) `submit` waits for room instead.
public final class InferenceWorker: @unchecked Sendable {
    private let model: Model
    private let capacity: Int
    private let backpressure: Backpressure
    private let keepEmbeddings: Bool
    private var onResult: (WindowResult) -> Void = { _ in }
    private let thread = WorkerThread(name: "mast-inference")
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var pending: [Window] = []
    private var finishing = false
    private var dropped = 0
    private var processed = 0

    /// - Parameter capacity: windows that may wait (at least 1).
    public init(model: Model, capacity: Int, backpressure: Backpressure, keepEmbeddings: Bool = false) {
        precondition(capacity >= 1, "the queue must hold at least one window")
        self.model = model
        self.capacity = capacity
        self.backpressure = backpressure
        self.keepEmbeddings = keepEmbeddings
    }

    /// Windows dropped because the queue was full.
    public var droppedWindows: Int { condition.withLock { dropped } }
    /// Windows classified so far.
    public var processedWindows: Int { condition.withLock { processed } }

    /// Starts the thread; `onResult` is called on it, in window order.
    public func start(onResult: @escaping (WindowResult) -> Void) {
        condition.withLock { self.onResult = onResult }
        thread.start { [self] in run() }
    }

    /// Queues a window (after `start`: an unstarted worker would never take it).
    public func submit(_ window: Window) {
        precondition(thread.hasStarted, "submit before start")
        condition.withLock {
            if pending.count >= capacity {
                switch backpressure {
                case .drop:
                    pending.removeFirst()
                    dropped += 1
                case .wait:
                    while pending.count >= capacity { condition.wait() }  // the started thread drains the queue
                }
            }
            pending.append(window)
            condition.broadcast()
        }
    }

    /// Processes what is queued, then stops the thread; returns when the last result is out.
    public func finish() {
        condition.withLock {
            finishing = true
            condition.broadcast()
        }
        thread.join()
    }

    private func run() {
        var logits = [Float](repeating: 0, count: model.config.numClasses)
        while let window = nextWindow() {
            let started = DispatchTime.now().uptimeNanoseconds
            window.features.withUnsafeBufferPointer { features in
                logits.withUnsafeMutableBufferPointer { model.classify(features: features, logits: $0) }
            }
            let probabilities = logits.map { 1 / (1 + exp(-$0)) }
            let embedding = keepEmbeddings ? Array(model.embedding) : nil
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            onResult(WindowResult(startSample: window.startSample, endSample: window.endSample,
                                  probabilities: probabilities, classes: model.classes, embedding: embedding, level: window.level,
                                  inferenceSeconds: seconds))
            condition.withLock { processed += 1 }
        }
    }

    /// The oldest pending window; nil once finishing and drained.
    private func nextWindow() -> Window? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !finishing { condition.wait() }
        guard !pending.isEmpty else { return nil }
        condition.broadcast()  // room for a blocked submit
        return pending.removeFirst()
    }
}
