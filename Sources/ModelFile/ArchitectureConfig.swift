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

    /// Upper bounds of the fields, far above every shipped architecture (mast-b: 1000 frames,
    /// 3 stages of 16 blocks at most, dim 768; AST: 1212 tokens). A model file is input like any
    /// other: without these a `depth` of 2^40 asked for 11 GB before failing, and the sizes the
    /// -Ounchecked engine computes from these fields would wrap instead of trapping.
    public enum Limits {
        public static let melBins = 1 ... 512
        public static let frames = 1 ... 8192
        public static let numClasses = 1 ... 100_000
        public static let mlpRatio = 1 ... 16
        /// Patch and pooling kernels, strides and paddings.
        public static let window = 0 ... 256
        public static let stages = 1 ... 16
        public static let depth = 1 ... 256
        public static let dim = 1 ... 8192
        public static let heads = 1 ... 256
        /// Tokens after the patch embedding; attention scores are tokens² per worker.
        public static let tokens = 1 ... 16384
    }

    /// Checks every field a forward pass relies on, naming the first bad one. Every field is
    /// within `Limits` before anything is multiplied, so the products below cannot overflow.
    public func validate() throws {
        func fail(_ field: String, _ reason: String) -> InvalidArchitecture { .init(field: field, reason: reason) }
        func within(_ value: Int, _ range: ClosedRange<Int>, _ field: String) throws {
            guard range.contains(value) else { throw fail(field, "must be within \(range.lowerBound)…\(range.upperBound), got \(value)") }
        }
        func pair(_ v: [Int]?, _ field: String, min: Int) throws {
            guard let v, v.count == 2 else { throw fail(field, "needs two values (frequency, time)") }
            guard v.allSatisfy({ $0 >= min && $0 <= Limits.window.upperBound }) else {
                throw fail(field, "values must be within \(min)…\(Limits.window.upperBound), got \(v)")
            }
        }
        try within(melBins, Limits.melBins, "mel_bins")
        try within(frames, Limits.frames, "frames")
        try within(numClasses, Limits.numClasses, "num_classes")
        try within(mlpRatio, Limits.mlpRatio, "mlp_ratio")
        try pair(patchKernel, "patch_kernel", min: 1)
        try pair(patchStride, "patch_stride", min: 1)
        try pair(patchPadding, "patch_padding", min: 0)
        guard patchGrid.f > 0, patchGrid.t > 0 else {
            throw fail("patch_kernel", "\(patchKernel) does not fit a \(melBins)×\(frames) input")
        }
        guard Limits.tokens.contains(patchGrid.count) else {
            throw fail("patch_stride", "\(patchGrid) = \(patchGrid.count) tokens; at most \(Limits.tokens.upperBound)")
        }
        switch family {
        case .mast:
            guard let stages, !stages.isEmpty else { throw fail("stages", "a MAST network needs at least one stage") }
            try within(stages.count, Limits.stages, "stages")
            try pair(kvStride, "kv_stride", min: 1)
            try pair(poolKernel, "pool_kernel", min: 1)
            for (i, stage) in stages.enumerated() {
                try pair(stage.qStride, "stages[\(i)].q_stride", min: 1)
                try within(stage.depth, Limits.depth, "stages[\(i)].depth")
                try within(stage.heads, Limits.heads, "stages[\(i)].heads")
                try within(stage.dim, Limits.dim, "stages[\(i)].dim")
                guard stage.dim % stage.heads == 0 else {
                    throw fail("stages[\(i)].dim", "\(stage.dim) is not a multiple of heads (\(stage.heads))")
                }
            }
        case .ast:
            guard let depth else { throw fail("depth", "an AST network needs a depth") }
            try within(depth, Limits.depth, "depth")
            guard let dim, let heads else { throw fail("dim", "an AST network needs dim and heads") }
            try within(heads, Limits.heads, "heads")
            try within(dim, Limits.dim, "dim")
            guard dim % heads == 0 else { throw fail("dim", "\(dim) is not a multiple of heads (\(heads))") }
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

    public init(f: Int, t: Int) {
        self.f = f
        self.t = t
    }
}

/// Output length of a convolution or pooling window along one axis.
@inline(__always)
package func convOutput(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Int) -> Int {
    (size + 2 * padding - kernel) / stride + 1
}
