import Dispatch

/// The engine's own threading: every large operation (matrix products by rows, attention by head
/// and query rows, element-wise kernels by rows) is split over the model's workers
/// (`EngineOptions.threads`, passed down from its run state as `Workers`, never process-wide). (When the
/// engine used OpenBLAS, OpenBLAS's idle threads spin-yielded while the element-wise kernels ran
/// and stole the cores those kernels needed: 15% of mast-b's time in sched_yield.)

/// Work below this many multiply-accumulates or element operations runs on the calling thread:
/// waking another thread costs 10–20 µs, about a million multiply-accumulates.
let minimumParallelWork = 1 << 20

/// Runs `body(worker, range)` over `0..<count` split into one contiguous range per worker (at
/// most `workers`, the number of per-worker scratch buffers the caller has), or on the calling
/// thread as worker 0 when `count × costPerItem` is small.
@inline(__always)
func parallelChunks(_ count: Int, costPerItem: Int, workers: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
    let chunks = count * costPerItem >= minimumParallelWork ? min(workers, count) : 1
    if chunks <= 1 {
        body(0, 0 ..< count)
        return
    }
    // Each chunk touches a disjoint range, so sharing the closure across threads is safe.
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            shared.value(chunk, (count * chunk / chunks) ..< (count * (chunk + 1) / chunks))
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
