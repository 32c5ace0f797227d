/// MAST: patch embedding → multiscale blocks → mean over tokens → LayerNorm → Linear.
final class MASTNetwork: Network {
    let config: ArchitectureConfig
    let plans: [BlockPlan]
    let patchWeight: LinearWeight, patchBias: UnsafePointer<Float>  // patch_embed.proj.weight (dim0, 1, kF, kT), .bias (dim0)
    let blocks: [MultiscaleBlock]                      // blocks.{0..<Σdepth}
    let normWeight, normBias: UnsafePointer<Float>    // norm.weight, norm.bias (dimLast)
    let headWeight: LinearWeight, headBias: UnsafePointer<Float>    // head.weight (classes, dimLast), head.bias (classes)
    private let loader: WeightLoader
    private let state: MASTRunState

    init(config: ArchitectureConfig, loader: WeightLoader, options: EngineOptions) throws {
        self.config = config
        self.loader = loader
        plans = BlockPlan.plans(for: config)
        let dim0 = plans[0].dimIn, dimLast = config.embeddingDim
        patchWeight = try loader.takeLinear("patch_embed.proj.weight", outDim: dim0, inDim: config.patchKernel[0] * config.patchKernel[1],
                                           shape: [dim0, 1, config.patchKernel[0], config.patchKernel[1]])
        patchBias = try loader.take("patch_embed.proj.bias", [dim0])
        blocks = try plans.enumerated().map { i, plan in
            try MultiscaleBlock(plan: plan, index: i, mlpRatio: config.mlpRatio, loader: loader)
        }
        normWeight = try loader.take("norm.weight", [dimLast])
        normBias = try loader.take("norm.bias", [dimLast])
        headWeight = try loader.takeLinear("head.weight", outDim: config.numClasses, inDim: dimLast)
        headBias = try loader.take("head.bias", [config.numClasses])
        try loader.finish()
        state = MASTRunState(config: config, plans: plans, options: options)
    }

    var embedding: UnsafeBufferPointer<Float> { UnsafeBufferPointer(state.embedding) }

    func forward(features: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, taps: TapHandler?) {
        let grid = config.patchGrid, dim0 = plans[0].dimIn
        var x = state.x, y = state.y
        patchEmbedding(out: x, features: features, columns: state.columns, weight: patchWeight, bias: patchBias,
                       melBins: config.melBins, frames: config.frames, grid: grid,
                       kernel: config.patchKernel, stride: config.patchStride, padding: config.patchPadding,
                       workers: state.workers)
        taps?("patch_embed", UnsafeBufferPointer(start: x, count: grid.count * dim0), [grid.count, dim0])

        for (i, block) in blocks.enumerated() {
            block.forward(x: x, y: y, state: state)
            swap(&x, &y)
            let plan = block.plan
            if i + 1 == blocks.count || blocks[i + 1].plan.stage != plan.stage {
                taps?("stage\(plan.stage + 1)", UnsafeBufferPointer(start: x, count: plan.gridQ.count * plan.dimOut),
                      [plan.gridQ.count, plan.dimOut])
            }
        }

        let last = plans[plans.count - 1], d = last.dimOut, n = last.gridQ.count
        let pooled = state.embedding.baseAddress!
        meanOverRows(out: pooled, inp: x, rows: n, dim: d)
        layerNorm(out: pooled, inp: pooled, weight: normWeight, bias: normBias, rows: 1, dim: d, eps: normEpsilon,
                  workers: state.workers)
        taps?("embedding", UnsafeBufferPointer(state.embedding), [d])
        linear(out: logits, inp: pooled, weight: headWeight, bias: headBias, rows: 1, workers: state.workers)
        taps?("logits", UnsafeBufferPointer(start: logits, count: config.numClasses), [config.numClasses])
    }
}

/// Every buffer one MAST forward pass needs, allocated once, each sized for the largest block.
final class MASTRunState {
    let x, y: UnsafeMutablePointer<Float>     // residual stream in / out: (tokens, dim)
    let xNorm: UnsafeMutablePointer<Float>    // norm1 / norm2 output: (tokens, dim)
    let skip: UnsafeMutablePointer<Float>     // proj(norm1(x)) when the width changes: (tokens, dimOut)
    let qkv: UnsafeMutablePointer<Float>      // (tokens, 3·dimOut)
    let q: UnsafeMutablePointer<Float>        // pooled queries: (gridQ, dimOut)
    let k, v: UnsafeMutablePointer<Float>     // pooled keys and values: (gridKV, dimOut)
    let pooled: [UnsafeMutablePointer<Float>] // [q, k, v], so attention walks them without making an array
    let attended: UnsafeMutablePointer<Float> // attn·v + q, all heads: (gridQ, dimOut)
    let packedHeads: UnsafeMutablePointer<Float> // every head's keys and values packed: heads × PackedHead
    let attention: [AttentionScratch]         // one per worker
    /// Workers a forward pass splits its work over: the model's `EngineOptions.threads`, fixed
    /// with the buffers sized for it (a process-wide count changed under a running model was a
    /// SIGSEGV).
    let workers: Workers
    let hidden: UnsafeMutablePointer<Float>   // MLP hidden: (gridQ, mlpRatio·dimOut)
    let columns: UnsafeMutablePointer<Float>  // patch im2col: (patch tokens, kF·kT)
    let embedding: UnsafeMutableBufferPointer<Float> // (dimLast)
    private let arena: ScratchArena

    init(config: ArchitectureConfig, plans: [BlockPlan], options: EngineOptions) {
        func largest(_ size: (BlockPlan) -> Int) -> Int { plans.map(size).max() ?? 0 }
        let patch = config.patchGrid.count
        let residual = max(largest { $0.gridIn.count * max($0.dimIn, $0.dimOut) }, patch * plans[0].dimIn)
        let arena = ScratchArena(), make = arena.make
        self.arena = arena
        let int8 = options.precision == .int8
        let widest = max(largest { config.mlpRatio * max($0.dimIn, $0.dimOut) }, config.patchKernel[0] * config.patchKernel[1])
        workers = Workers(count: options.threads, int8Rows: int8 ? max(largest { $0.gridIn.count }, patch) : 0,
                          int8Depth: widest, arena: arena)
        x = make(residual); y = make(residual); xNorm = make(residual)
        skip = make(largest { $0.gridIn.count * $0.dimOut })
        qkv = make(largest { $0.gridIn.count * 3 * $0.dimOut })
        q = make(largest { $0.gridQ.count * $0.dimOut })
        k = make(largest { $0.gridKV.count * $0.dimOut })
        v = make(largest { $0.gridKV.count * $0.dimOut })
        pooled = [q, k, v]
        attended = make(largest { $0.gridQ.count * $0.dimOut })
        packedHeads = make(largest { $0.heads * PackedHead.capacity(keys: $0.gridKV.count, headDim: $0.headDim) })
        attention = (0 ..< options.threads).map { _ in
            AttentionScratch(scores: make(largest { $0.gridQ.count * $0.gridKV.count }),
                             relF: make(largest { $0.gridQ.count * $0.gridKV.f }),
                             relT: make(largest { $0.gridQ.count * $0.gridKV.t }))
        }
        hidden = make(largest { $0.gridQ.count * config.mlpRatio * $0.dimOut })
        columns = make(patch * config.patchKernel[0] * config.patchKernel[1])
        embedding = UnsafeMutableBufferPointer(start: make(config.embeddingDim), count: config.embeddingDim)
    }
}

/// `out[dim] = mean over rows of inp[rows, dim]`, accumulated in Double.
func meanOverRows(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: Int, dim: Int) {
    for c in 0 ..< dim {
        var sum: Double = 0
        for r in 0 ..< rows { sum += Double(inp[r * dim + c]) }
        out[c] = Float(sum / Double(rows))
    }
}

/// One worker's buffers for attention over a band of queries.
struct AttentionScratch {
    let scores: UnsafeMutablePointer<Float>   // (band queries, gridKV)
    let relF, relT: UnsafeMutablePointer<Float> // (band queries, kvF) and (band queries, kvT)
}
