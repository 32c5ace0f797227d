import ArgumentParser
import Foundation

/// OpenBLAS's sgemm on large square matrices, the ceiling `bench` compares the engine against.
///
/// Loaded at run time, only by `bench`: the engine does not use OpenBLAS (its own kernels
/// measured faster on every model, BENCHMARKS.md), and a linked OpenBLAS starts its thread pool
/// in every command, where the idle threads spin for about 0.1 s of CPU before they sleep.
struct OpenBLASReference {
    private typealias Sgemm = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void

    private let sgemm: Sgemm
    private let setThreads: SetThreads

    init() throws {
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL),
                  let sgemm = dlsym(library, "cblas_sgemm"), let setThreads = dlsym(library, "openblas_set_num_threads")
            else { continue }
            self.sgemm = unsafeBitCast(sgemm, to: Sgemm.self)
            self.setThreads = unsafeBitCast(setThreads, to: SetThreads.self)
            return
        }
        throw ValidationError("OpenBLAS (libopenblas.so.0) not found for the sgemm reference: install libopenblas0, or pass --sgemm-size 0")
    }

    /// Median GFLOP/s of five `size`×`size` products on `threads` OpenBLAS threads.
    func gflops(size: Int, threads: Int) -> Double {
        setThreads(Int32(threads))
        let a = [Float](repeating: 0.5, count: size * size), b = a
        var c = [Float](repeating: 0, count: size * size)
        let n = Int32(size), rowMajor: Int32 = 101, noTranspose: Int32 = 111  // cblas.h's enum values
        let times = (0 ..< 5).map { _ in
            seconds { sgemm(rowMajor, noTranspose, noTranspose, n, n, n, 1, a, n, b, n, 0, &c, n) }
        }
        return 2 * pow(Double(size), 3) / times.sorted()[2] / 1e9
    }
}
