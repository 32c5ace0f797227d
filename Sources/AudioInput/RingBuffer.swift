import Atomics
import Dispatch

/// Lock-free single-producer / single-consumer ring of mono Float samples at the model rate.
///
/// One thread (a source's capture thread) calls the producer methods (`write`, `skip`,
/// `finish`, `freeSpace`); one other thread (the feature stage) calls the consumer methods
/// (`read`, `nextReadPosition`, `waitForData`, `isDrained`). The counters may be read
/// from any thread.
///
/// Capacity is fixed at init and the storage never grows. When the ring is full the
/// producer never waits: it drops the *new* samples and counts them in `overrunSamples`.
/// Dropping new rather than oldest keeps each index single-writer (the producer never moves
/// the read index, so no compare-and-swap loop can stall it), and latency stays bounded all
/// the same: the ring never holds more than `capacity` samples, so a consumer that was
/// stalled catches up to live audio after reading at most `capacity` stale samples; the
/// freshness policy for a consumer that is persistently slow belongs to the inference
/// worker, which drops its oldest windows.
///
/// Stream positions: sample `p` of the stream is the `p`-th sample the source produced,
/// counting samples dropped by overruns and gaps declared with `skip` (e.g. the time a
/// microphone was unplugged). Each dropped run is recorded as a gap entry located at the
/// ring index of the next accepted sample, so `read` returns chunks that are contiguous in
/// the stream and tells their exact stream position: `timestamp = start + position / rate`.
/// The gap queue has `gapSlots` entries; while it is full the producer drops (and counts)
/// further samples rather than lose track of positions.
public final class RingBuffer: @unchecked Sendable {
    /// A run of samples copied out by `read`: `count` samples starting at stream sample `streamPosition`.
    public struct Chunk: Sendable, Equatable {
        public let count: Int
        public let streamPosition: UInt64
    }

    /// Maximum number of samples held.
    public let capacity: Int
    /// Gap entries that can be outstanding (recorded by the producer, not yet reached by the consumer).
    public static let gapSlots = 64

    /// [capacity] samples; ring index `i` lives at `storage[i % capacity]`.
    private let storage: UnsafeMutablePointer<Float>
    /// Samples ever accepted (producer stores, release) and ever consumed (consumer stores, release).
    private let writeIndex = ManagedAtomic<UInt64>(0)
    private let readIndex = ManagedAtomic<UInt64>(0)
    private let overrunCount = ManagedAtomic<UInt64>(0)
    private let skippedCount = ManagedAtomic<UInt64>(0)
    private let finishedFlag = ManagedAtomic<Bool>(false)

    /// [gapSlots] each: the ring index the gap precedes, and the stream samples missing there.
    /// Entry `k` lives at slot `k % gapSlots`; the producer owns `gapTail`, the consumer `gapHead`.
    private let gapAt: UnsafeMutablePointer<UInt64>
    private let gapLength: UnsafeMutablePointer<UInt64>
    private let gapHead = ManagedAtomic<UInt64>(0)
    private let gapTail = ManagedAtomic<UInt64>(0)

    /// Producer-only: stream samples dropped or skipped since the last recorded gap entry.
    private var pendingGap: UInt64 = 0
    /// Consumer-only: stream samples missing before ring index `readIndex` (sum of gap entries passed).
    private var gapsBeforeRead: UInt64 = 0

    /// Wake-up for `waitForData`: the producer signals only when the consumer said it waits,
    /// so a signal is one futex call and never blocks.
    private let consumerWaiting = ManagedAtomic<Bool>(false)
    private let dataSignal = DispatchSemaphore(value: 0)

    public init(capacity: Int) throws {
        guard capacity >= 1 else {
            throw AudioInputError(.invalidArgument, source: "ring buffer", "capacity \(capacity) samples; need at least 1")
        }
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: 0, count: capacity)
        gapAt = .allocate(capacity: Self.gapSlots)
        gapAt.initialize(repeating: 0, count: Self.gapSlots)
        gapLength = .allocate(capacity: Self.gapSlots)
        gapLength.initialize(repeating: 0, count: Self.gapSlots)
    }

    deinit {
        storage.deallocate()
        gapAt.deallocate()
        gapLength.deallocate()
    }

    // MARK: Any thread

    /// Samples dropped because the ring was full.
    public var overrunSamples: UInt64 { overrunCount.load(ordering: .relaxed) }
    /// Samples the producer declared missing with `skip` (device outages).
    public var skippedSamples: UInt64 { skippedCount.load(ordering: .relaxed) }
    /// Samples accepted into the ring since init.
    public var samplesWritten: UInt64 { writeIndex.load(ordering: .relaxed) }
    /// The producer called `finish()` (the stream has ended; samples may remain to read).
    public var isFinished: Bool { finishedFlag.load(ordering: .acquiring) }

    // MARK: Producer

    /// Room for this many samples without dropping. Only grows until the producer writes.
    public var freeSpace: Int {
        capacity - Int(writeIndex.load(ordering: .relaxed) &- readIndex.load(ordering: .acquiring))
    }

    /// Appends what fits, drops (and counts) the rest; returns the number accepted. Never blocks.
    @discardableResult
    public func write(_ samples: UnsafeBufferPointer<Float>) -> Int {
        guard let source = samples.baseAddress, !samples.isEmpty else { return 0 }
        let w = writeIndex.load(ordering: .relaxed)
        let r = readIndex.load(ordering: .acquiring)
        var accepted = min(samples.count, capacity - Int(w &- r))
        if accepted > 0, pendingGap > 0, !recordPendingGap(at: w) { accepted = 0 }
        if accepted > 0 {
            let start = Int(w % UInt64(capacity))
            let first = min(accepted, capacity - start)
            (storage + start).update(from: source, count: first)
            storage.update(from: source + first, count: accepted - first)
            writeIndex.store(w &+ UInt64(accepted), ordering: .releasing)
            wakeConsumer()
        }
        let dropped = samples.count - accepted
        if dropped > 0 {
            pendingGap &+= UInt64(dropped)
            overrunCount.wrappingIncrement(by: UInt64(dropped), ordering: .relaxed)
        }
        return accepted
    }

    @discardableResult
    public func write(_ samples: [Float]) -> Int {
        samples.withUnsafeBufferPointer { write($0) }
    }

    /// Declares `count` stream samples missing before the next written sample (e.g. a
    /// device outage), so stream positions keep following wall-clock time.
    public func skip(_ count: Int) {
        guard count > 0 else { return }
        pendingGap &+= UInt64(count)
        skippedCount.wrappingIncrement(by: UInt64(count), ordering: .relaxed)
    }

    /// Marks the end of the stream (end of file, or a source that stopped). Write nothing after.
    public func finish() {
        if pendingGap > 0 { _ = recordPendingGap(at: writeIndex.load(ordering: .relaxed)) }
        finishedFlag.store(true, ordering: .releasing)
        wakeConsumer()
    }

    private func recordPendingGap(at index: UInt64) -> Bool {
        let tail = gapTail.load(ordering: .relaxed)
        guard tail &- gapHead.load(ordering: .acquiring) < UInt64(Self.gapSlots) else { return false }
        let slot = Int(tail % UInt64(Self.gapSlots))
        gapAt[slot] = index
        gapLength[slot] = pendingGap
        gapTail.store(tail &+ 1, ordering: .releasing)
        pendingGap = 0
        return true
    }

    private func wakeConsumer() {
        // Pairs with the fence in `waitForData`: either the consumer sees the new index, or
        // this exchange sees its flag (store-load ordering both sides).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if consumerWaiting.exchange(false, ordering: .relaxed) { dataSignal.signal() }
    }

    // MARK: Consumer

    /// Samples ready to read now.
    public var availableToRead: Int {
        Int(writeIndex.load(ordering: .acquiring) &- readIndex.load(ordering: .relaxed))
    }

    /// Stream position of the next sample `read` will return, counting every gap recorded
    /// before it. (Samples dropped after the last accepted one are recorded, and counted
    /// here, when the producer next accepts a sample or finishes.)
    public var nextReadPosition: UInt64 {
        let r = readIndex.load(ordering: .relaxed)
        passGaps(at: r)
        return r &+ gapsBeforeRead
    }

    /// The stream has ended and everything in it has been read.
    public var isDrained: Bool {
        isFinished && availableToRead == 0
    }

    /// Copies up to `buffer.count` samples that are contiguous in the stream (a read stops at
    /// a gap); nil when nothing is ready.
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) -> Chunk? {
        guard let out = buffer.baseAddress, !buffer.isEmpty else { return nil }
        let r = readIndex.load(ordering: .relaxed)
        let w = writeIndex.load(ordering: .acquiring)
        passGaps(at: r)
        var count = Int(min(w &- r, UInt64(buffer.count)))
        let head = gapHead.load(ordering: .relaxed)
        if head != gapTail.load(ordering: .acquiring) {
            let nextGap = gapAt[Int(head % UInt64(Self.gapSlots))]
            count = min(count, Int(nextGap &- r))
        }
        guard count > 0 else { return nil }
        let start = Int(r % UInt64(capacity))
        let first = min(count, capacity - start)
        out.update(from: storage + start, count: first)
        (out + first).update(from: storage, count: count - first)
        readIndex.store(r &+ UInt64(count), ordering: .releasing)
        return Chunk(count: count, streamPosition: r &+ gapsBeforeRead)
    }

    /// Allocating convenience: up to `maxCount` stream-contiguous samples and the position of the first.
    public func read(maxCount: Int) -> (samples: [Float], streamPosition: UInt64)? {
        var position: UInt64 = 0
        let samples = [Float](unsafeUninitializedCapacity: max(maxCount, 0)) { buffer, initialized in
            let chunk = read(into: buffer)
            initialized = chunk?.count ?? 0
            position = chunk?.streamPosition ?? 0
        }
        return samples.isEmpty ? nil : (samples, position)
    }

    /// Waits until samples are ready or the stream has finished, at most `timeout` seconds.
    /// Returns whether either holds; may return early (the caller loops).
    public func waitForData(timeout: Double) -> Bool {
        if availableToRead > 0 || isFinished { return true }
        consumerWaiting.store(true, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if availableToRead == 0, !isFinished {
            _ = dataSignal.wait(timeout: .now() + .nanoseconds(Int(min(max(timeout, 0), 86400) * 1e9)))
        }
        consumerWaiting.store(false, ordering: .relaxed)
        return availableToRead > 0 || isFinished
    }

    /// Consumes the gap entries located at ring index `r` (they precede the sample there).
    private func passGaps(at r: UInt64) {
        var head = gapHead.load(ordering: .relaxed)
        let tail = gapTail.load(ordering: .acquiring)
        guard head != tail else { return }
        while head != tail, gapAt[Int(head % UInt64(Self.gapSlots))] == r {
            gapsBeforeRead &+= gapLength[Int(head % UInt64(Self.gapSlots))]
            head &+= 1
        }
        gapHead.store(head, ordering: .releasing)
    }
}
