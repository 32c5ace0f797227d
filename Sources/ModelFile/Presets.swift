/// The shipped architectures. `training/mast_tagger/architectures.json` holds the same table for
/// the PyTorch side; `ArchitectureTests.testPresetsMatchThePythonTable`
/// fails if the two drift apart.
extension ArchitectureConfig {
    public static let presets: [String: ArchitectureConfig] = [
        "ast": ast,
        "mast-b": mastB,
        "mast-s": mastS,
        "mast-t": mastT,
    ]

    /// AST (Gong et al. 2021): ViT-B over 16×16 patches with stride 10 on both axes,
    /// 128 mel × 1024 frames (10.24 s), 527 AudioSet classes.
    public static let ast = ArchitectureConfig(
        name: "ast", family: .ast, melBins: 128, frames: 1024, numClasses: 527,
        patchKernel: [16, 16], patchStride: [10, 10], patchPadding: [0, 0], mlpRatio: 4,
        depth: 12, dim: 768, heads: 12)

    /// The paper's scale on AST's input. MViTv2-B depths and widths (2, 3, 16, 3 blocks of
    /// 96…768), made cheaper the MAST way: the patch embedding strides time by 8, stage 3 pools
    /// along time only (1-D) while stages 2 and 4 pool both axes (2-D).
    public static let mastB = ArchitectureConfig(
        name: "mast-b", family: .mast, melBins: 128, frames: 1024, numClasses: 527,
        patchKernel: [7, 9], patchStride: [4, 8], patchPadding: [3, 4], mlpRatio: 4,
        stages: [
            .init(depth: 2, dim: 96, heads: 1, qStride: [1, 1]),
            .init(depth: 3, dim: 192, heads: 2, qStride: [2, 2]),
            .init(depth: 16, dim: 384, heads: 4, qStride: [1, 2]),
            .init(depth: 3, dim: 768, heads: 8, qStride: [2, 2]),
        ],
        kvStride: [4, 4], poolKernel: [3, 3])

    /// Streaming, 2 s windows (200 frames) for the cost of a 1 s one: the patch embedding strides
    /// time by 8 and stage 4 pools time only (1-D).
    public static let mastS = ArchitectureConfig(
        name: "mast-s", family: .mast, melBins: 128, frames: 200, numClasses: 527,
        patchKernel: [7, 9], patchStride: [4, 8], patchPadding: [3, 4], mlpRatio: 4,
        stages: [
            .init(depth: 1, dim: 32, heads: 1, qStride: [1, 1]),
            .init(depth: 2, dim: 64, heads: 2, qStride: [2, 2]),
            .init(depth: 3, dim: 128, heads: 4, qStride: [2, 2]),
            .init(depth: 2, dim: 256, heads: 8, qStride: [1, 2]),
        ],
        kvStride: [4, 4], poolKernel: [3, 3])

    /// Streaming, 1 s windows (100 frames): the default model's architecture. The patch
    /// embedding strides time by 8, stages 2 and 3 pool both axes (2-D) and stage 4 time only
    /// (1-D), so a window costs 0.086 GMACs: a daemon at a 1 s hop spends less CPU than YAMNet.
    public static let mastT = ArchitectureConfig(
        name: "mast-t", family: .mast, melBins: 128, frames: 100, numClasses: 527,
        patchKernel: [7, 9], patchStride: [4, 8], patchPadding: [3, 4], mlpRatio: 4,
        stages: [
            .init(depth: 1, dim: 32, heads: 1, qStride: [1, 1]),
            .init(depth: 2, dim: 64, heads: 2, qStride: [2, 2]),
            .init(depth: 5, dim: 128, heads: 4, qStride: [2, 2]),
            .init(depth: 2, dim: 256, heads: 8, qStride: [1, 2]),
        ],
        kvStride: [4, 4], poolKernel: [3, 3])
}
