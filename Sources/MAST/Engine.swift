import COpenBLAS

/// Process-wide engine settings.
public enum Engine {
    /// Worker threads for one forward pass. Set it before loading a model: per-worker scratch
    /// buffers are sized then. OpenBLAS itself stays single-threaded (see Kernels/Parallel.swift).
    public static func setThreadCount(_ count: Int) {
        precondition(count > 0, "thread count must be positive")
        openblas_set_num_threads(1)
        parallelism = count
    }
}
