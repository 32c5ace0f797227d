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

/// How a model computes, fixed when it is loaded: its scratch buffers are sized for `threads`
/// and its weights packed for `precision` (and `int8Kernel`). Each model carries its own, so
/// two models with different options run side by side, and a reload that changes them builds a
/// new model instead of changing the running one's arithmetic under it.
public struct EngineOptions: Sendable, Equatable {
    /// Worker threads for one forward pass.
    public var threads: Int
    public var precision: MatrixPrecision
    /// The int8 kernel, for `.int8`.
    public var int8Kernel: Int8Kernel

    /// Most worker threads: beyond the cores they only cost memory (scratch per worker).
    public static let threadRange = 1 ... 256

    public init(threads: Int = 1, precision: MatrixPrecision = .float32, int8Kernel: Int8Kernel? = nil) {
        self.threads = threads
        self.precision = precision
        self.int8Kernel = int8Kernel ?? Engine.defaultInt8Kernel ?? .avx2
    }

    /// What is wrong with these options on this CPU, if anything.
    public var problem: String? {
        if !Self.threadRange.contains(threads) {
            return "threads must be within \(Self.threadRange.lowerBound)…\(Self.threadRange.upperBound), got \(threads)"
        }
        if precision == .int8 && !int8Kernel.isAvailable {
            return "int8 with the \(int8Kernel.rawValue) kernel needs a CPU that runs it (int8 needs \(Engine.int8Requirement))"
        }
        return nil
    }
}

/// What this CPU and environment offer the engine; nothing here changes after start.
public enum Engine {
    /// Whether this CPU can run `.int8` (AVX2 at least).
    public static var int8Supported: Bool { defaultInt8Kernel != nil }

    /// What `.int8` needs, for messages that refuse it: the slowest int8 kernel's instructions.
    public static let int8Requirement = "an x86-64 CPU with AVX2 and FMA"

    /// The int8 kernel `EngineOptions` picks when none is named: the fastest this CPU runs,
    /// unless the environment's `MAST_INT8_KERNEL` (avx2, avx-vnni, avx512-vnni) names another
    /// it runs, which is how one machine measures them side by side.
    public static let defaultInt8Kernel: Int8Kernel? = {
        guard let name = ProcessInfo.processInfo.environment["MAST_INT8_KERNEL"] else { return Int8Kernel.best }
        if let chosen = Int8Kernel(rawValue: name), chosen.isAvailable { return chosen }
        // A benchmark knob set wrong must not pass unnoticed as a measurement of another kernel.
        let runs = Int8Kernel.allCases.filter(\.isAvailable).map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data(
            "MAST_INT8_KERNEL=\(name): not an int8 kernel this CPU runs (it runs: \(runs.isEmpty ? "none" : runs)); using \(Int8Kernel.best?.rawValue ?? "none")\n".utf8))
        return Int8Kernel.best
    }()
}
