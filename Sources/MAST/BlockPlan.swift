/// One MAST block with everything resolved from the config: widths, strides and the token grids
/// it reads and writes. Mirrors `mast_plan` in training/mast_tagger/model.py.
public struct BlockPlan: Equatable, Sendable {
    public var stage: Int
    public var dimIn: Int
    public var dimOut: Int
    public var heads: Int
    public var qStride: [Int]
    public var kvStride: [Int]
    public var kernel: [Int]
    /// Grid of the block's input tokens.
    public var gridIn: Grid
    /// Grid of the pooled queries, which is the block's output grid.
    public var gridQ: Grid
    /// Grid of the pooled keys and values.
    public var gridKV: Grid

    public var headDim: Int { dimOut / heads }
    public var padding: [Int] { [kernel[0] / 2, kernel[1] / 2] }
    public var poolsQueries: Bool { qStride != [1, 1] }

    /// Blocks in order. The first block of each stage changes the width and applies the stage's
    /// q stride; the kv stride is the stage-1 kv stride divided by every q stride so far.
    public static func plans(for config: ArchitectureConfig) -> [BlockPlan] {
        guard config.family == .mast, let stages = config.stages,
              let kv0 = config.kvStride, let kernel = config.poolKernel else { return [] }
        var grid = config.patchGrid
        var dim = stages[0].dim
        var cumulative = [1, 1]
        var plans: [BlockPlan] = []
        for (s, stage) in stages.enumerated() {
            for j in 0 ..< stage.depth {
                let qStride = j == 0 ? stage.qStride : [1, 1]
                if j == 0 { cumulative = [cumulative[0] * qStride[0], cumulative[1] * qStride[1]] }
                let kvStride = [max(kv0[0] / cumulative[0], 1), max(kv0[1] / cumulative[1], 1)]
                func pooled(_ stride: [Int]) -> Grid {
                    Grid(f: convOutput(grid.f, kernel[0], stride[0], kernel[0] / 2),
                         t: convOutput(grid.t, kernel[1], stride[1], kernel[1] / 2))
                }
                let plan = BlockPlan(stage: s, dimIn: dim, dimOut: stage.dim, heads: stage.heads,
                                     qStride: qStride, kvStride: kvStride, kernel: kernel,
                                     gridIn: grid, gridQ: pooled(qStride), gridKV: pooled(kvStride))
                plans.append(plan)
                dim = stage.dim
                grid = plan.gridQ
            }
        }
        return plans
    }
}
