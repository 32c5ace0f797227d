/// A network's architecture, as stored in a model file's `architecture` metadata (JSON, snake
/// case) and as defined by `training/mast_tagger/model.py`'s `ArchConfig`.
///
/// Input features are `frames × melBins` (time-major, as the fbank produces them); the networks
/// see them as a one-channel image of height `melBins` (frequency) and width `frames` (time).
/// Every 2-vector below is (frequency, time).
public struct ArchitectureConfig: Codable, Equatable, Sendable {
    public enum Family: String, Codable, Sendable { case mast, ast }

    public struct Stage: Codable, Equatable, Sendable {
        public var depth: Int
        public var dim: Int
        public var heads: Int
        /// Stride of the stage's first block: (1, 2) pools time only (1-D), (2, 2) both axes (2-D).
        public var qStride: [Int]

        public init(depth: Int, dim: Int, heads: Int, qStride: [Int]) {
            self.depth = depth; self.dim = dim; self.heads = heads; self.qStride = qStride
        }
    }

    public var name: String
    public var family: Family
    public var melBins: Int
    public var frames: Int
    public var numClasses: Int
    public var patchKernel: [Int]
    public var patchStride: [Int]
    public var patchPadding: [Int]
    public var mlpRatio: Int

    // MAST only.
    public var stages: [Stage]?
    /// kv stride of stage 1; later blocks divide it by the cumulative q stride (at least 1).
    public var kvStride: [Int]?
    public var poolKernel: [Int]?

    // AST only.
    public var depth: Int?
    public var dim: Int?
    public var heads: Int?

    /// Token grid after the patch embedding.
    public var patchGrid: Grid {
        Grid(f: convOutput(melBins, patchKernel[0], patchStride[0], patchPadding[0]),
             t: convOutput(frames, patchKernel[1], patchStride[1], patchPadding[1]))
    }

    /// The embedding width that reaches the classification head.
    public var embeddingDim: Int {
        family == .mast ? stages!.last!.dim : dim!
    }

    public struct InvalidArchitecture: Error, CustomStringConvertible {
        public let field: String
        public let reason: String
        public var description: String { "architecture.\(field): \(reason)" }
    }

    /// Checks every field a forward pass relies on, naming the first bad one.
    public func validate() throws {
        func fail(_ field: String, _ reason: String) -> InvalidArchitecture { .init(field: field, reason: reason) }
        func pair(_ v: [Int]?, _ field: String, min: Int) throws {
            guard let v, v.count == 2 else { throw fail(field, "needs two values (frequency, time)") }
            guard v.allSatisfy({ $0 >= min }) else { throw fail(field, "values must be ≥ \(min), got \(v)") }
        }
        guard melBins > 0 else { throw fail("mel_bins", "must be positive") }
        guard frames > 0 else { throw fail("frames", "must be positive") }
        guard numClasses > 0 else { throw fail("num_classes", "must be positive") }
        guard mlpRatio > 0 else { throw fail("mlp_ratio", "must be positive") }
        try pair(patchKernel, "patch_kernel", min: 1)
        try pair(patchStride, "patch_stride", min: 1)
        try pair(patchPadding, "patch_padding", min: 0)
        guard patchGrid.f > 0, patchGrid.t > 0 else {
            throw fail("patch_kernel", "\(patchKernel) does not fit a \(melBins)×\(frames) input")
        }
        switch family {
        case .mast:
            guard let stages, !stages.isEmpty else { throw fail("stages", "a MAST network needs at least one stage") }
            try pair(kvStride, "kv_stride", min: 1)
            try pair(poolKernel, "pool_kernel", min: 1)
            for (i, stage) in stages.enumerated() {
                try pair(stage.qStride, "stages[\(i)].q_stride", min: 1)
                guard stage.depth > 0 else { throw fail("stages[\(i)].depth", "must be positive") }
                guard stage.heads > 0, stage.dim > 0, stage.dim % stage.heads == 0 else {
                    throw fail("stages[\(i)].dim", "\(stage.dim) is not a positive multiple of heads (\(stage.heads))")
                }
            }
        case .ast:
            guard let depth, depth > 0 else { throw fail("depth", "an AST network needs a positive depth") }
            guard let dim, let heads, heads > 0, dim > 0, dim % heads == 0 else {
                throw fail("dim", "must be a positive multiple of heads")
            }
        }
    }
}

/// A token grid: `f` rows along frequency, `t` columns along time; tokens are stored
/// frequency-major (index `f * t_count + t`).
public struct Grid: Equatable, Sendable, CustomStringConvertible {
    public var f: Int
    public var t: Int
    public var count: Int { f * t }
    public var description: String { "\(f)×\(t)" }
}

/// Output length of a convolution or pooling window along one axis.
@inline(__always)
func convOutput(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Int) -> Int {
    (size + 2 * padding - kernel) / stride + 1
}
