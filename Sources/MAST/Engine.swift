import CQuantizedKernels

/// The number format of the engine's linear layers (attention products stay float32).
public enum MatrixPrecision: String, Sendable, CaseIterable {
    /// Float32 weights and products: the reference, equal to PyTorch within 1e-4.
    case float32 = "f32"
    /// Int8 weights (one scale per output channel) and int8 inputs (one scale per row, computed
    /// per product), accumulated in int32 with AVX-VNNI: about 4× the multiply-adds per
    /// instruction of float32, logits within a few hundredths. Needs a CPU with VNNI.
    case int8
}

/// Process-wide engine settings.
public enum Engine {
    /// Worker threads for one forward pass. Set it before loading a model: per-worker scratch
    /// buffers are sized then.
    public static func setThreadCount(_ count: Int) {
        precondition(count > 0, "thread count must be positive")
        parallelism = count
    }

    /// Whether this CPU can run `.int8` (AVX-VNNI, or AVX512-VNNI with AVX512VL).
    public static let int8Supported = mast_q8_supported() != 0

    /// The precision models loaded from now on use; float32 until set.
    public private(set) nonisolated(unsafe) static var precision = MatrixPrecision.float32

    /// Sets the precision of models loaded from now on. `.int8` needs `int8Supported`.
    public static func setPrecision(_ precision: MatrixPrecision) {
        precondition(precision == .float32 || int8Supported, "int8 needs a CPU with AVX-VNNI")
        self.precision = precision
    }
}
