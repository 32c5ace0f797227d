import CQuantizedKernels
import Foundation

/// The number format of the engine's linear layers (attention products stay float32).
public enum MatrixPrecision: String, Sendable, CaseIterable {
    /// Float32 weights and products: the reference, equal to PyTorch within 1e-4.
    case float32 = "f32"
    /// Int8 weights (one scale per output channel) and int8 inputs (one scale per row, computed
    /// per product), accumulated in int32: about twice as fast as float32 with the same tags
    /// (BENCHMARKS.md). Needs AVX2; fastest with VNNI.
    case int8
}

/// The int8 matrix kernels, by the x86 extensions they need (quantized_gemm.h).
public enum Int8Kernel: String, Sendable, CaseIterable {
    /// vpmaddubsw + vpmaddwd; weights limited to ±63 so 16-bit pair sums cannot saturate.
    case avx2
    /// vpdpbusd (Alder Lake, N100, Zen 5).
    case avxVNNI = "avx-vnni"
    /// vpdpbusd with AVX512VL on 256-bit registers (Ice Lake, Zen 4).
    case avx512VNNI = "avx512-vnni"

    var code: Int32 {
        switch self {
        case .avx2: Int32(MAST_Q8_AVX2)
        case .avxVNNI: Int32(MAST_Q8_AVX_VNNI)
        case .avx512VNNI: Int32(MAST_Q8_AVX512_VNNI)
        }
    }

    /// Whether this CPU runs it.
    public var isAvailable: Bool { mast_q8_kernel_available(code) != 0 }

    /// The fastest this CPU runs, or nil.
    public static let best = allCases.first { Int32(mast_q8_best_kernel()) == $0.code }
}

/// Process-wide engine settings.
public enum Engine {
    /// Worker threads for one forward pass. Set it before loading a model: per-worker scratch
    /// buffers are sized then.
    public static func setThreadCount(_ count: Int) {
        precondition(count > 0, "thread count must be positive")
        parallelism = count
    }

    /// Whether this CPU can run `.int8` (AVX2 at least).
    public static var int8Supported: Bool { int8Kernel != nil }

    /// What `.int8` needs, for messages that refuse it: the slowest int8 kernel's instructions.
    public static let int8Requirement = "an x86-64 CPU with AVX2 and FMA"

    /// The int8 kernel models loaded from now on use: the fastest this CPU runs, unless the
    /// environment's `MAST_INT8_KERNEL` (avx2, avx-vnni, avx512-vnni) names another it runs, which
    /// is how one machine measures them side by side.
    public private(set) nonisolated(unsafe) static var int8Kernel: Int8Kernel? = {
        guard let name = ProcessInfo.processInfo.environment["MAST_INT8_KERNEL"] else { return Int8Kernel.best }
        if let chosen = Int8Kernel(rawValue: name), chosen.isAvailable { return chosen }
        // A benchmark knob set wrong must not pass unnoticed as a measurement of another kernel.
        let runs = Int8Kernel.allCases.filter(\.isAvailable).map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data(
            "MAST_INT8_KERNEL=\(name): not an int8 kernel this CPU runs (it runs: \(runs.isEmpty ? "none" : runs)); using \(Int8Kernel.best?.rawValue ?? "none")\n".utf8))
        return Int8Kernel.best
    }()

    /// Sets the int8 kernel of models loaded from now on (it must be available).
    public static func setInt8Kernel(_ kernel: Int8Kernel) {
        precondition(kernel.isAvailable, "this CPU does not run the \(kernel.rawValue) int8 kernel")
        int8Kernel = kernel
    }

    /// The precision models loaded from now on use; float32 until set.
    public private(set) nonisolated(unsafe) static var precision = MatrixPrecision.float32

    /// Sets the precision of models loaded from now on. `.int8` needs `int8Supported`.
    public static func setPrecision(_ precision: MatrixPrecision) {
        precondition(precision == .float32 || int8Supported, "int8 needs \(int8Requirement)")
        self.precision = precision
    }
}
