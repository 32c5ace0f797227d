/// AST (Gong et al. 2021): patch embedding, CLS and distillation tokens, learned positions,
/// ViT blocks; the head reads the mean of the two tokens. Keys follow AST's checkpoints with
/// `module.v.` dropped and `mlp_head.0/1` named `head_norm`/`head` (see training/convert_ast.py).
final class ASTNetwork: Network {
    let config: ArchitectureConfig
    let patchWeight: LinearWeight, patchBias: UnsafePointer<Float>  // patch_embed.proj.weight (dim, 1, 16, 16), .bias (dim)
    let clsToken, distToken: UnsafePointer<Float>     // cls_token, dist_token (1, 1, dim)
    let positions: UnsafePointer<Float>                // pos_embed (1, patches + 2, dim)
    let blocks: [ViTBlock]                             // blocks.{0..<depth}
    let normWeight, normBias: UnsafePointer<Float>    // norm.{weight,bias} (dim)
    let headNormWeight, headNormBias: UnsafePointer<Float> // head_norm.{weight,bias} (dim), eps 1e-5
    let headWeight: LinearWeight, headBias: UnsafePointer<Float>    // head.weight (classes, dim), head.bias (classes)
    private let loader: WeightLoader
    private let state: ASTRunState

    init(config: ArchitectureConfig, loader: WeightLoader, options: EngineOptions) throws {
        self.config = config
        self.loader = loader
        let dim = config.dim!, tokens = config.patchGrid.count + 2
        patchWeight = try loader.takeLinear("patch_embed.proj.weight", outDim: dim, inDim: config.patchKernel[0] * config.patchKernel[1],
                                           shape: [dim, 1, config.patchKernel[0], config.patchKernel[1]])
        patchBias = try loader.take("patch_embed.proj.bias", [dim])
        clsToken = try loader.take("cls_token", [1, 1, dim])
        distToken = try loader.take("dist_token", [1, 1, dim])
        positions = try loader.take("pos_embed", [1, tokens, dim])
        blocks = try (0 ..< config.depth!).map { i in
            try ViTBlock(prefix: "blocks.\(i)", dim: dim, heads: config.heads!, mlpRatio: config.mlpRatio, loader: loader)
        }
        normWeight = try loader.take("norm.weight", [dim])
        normBias = try loader.take("norm.bias", [dim])
        headNormWeight = try loader.take("head_norm.weight", [dim])
        headNormBias = try loader.take("head_norm.bias", [dim])
        headWeight = try loader.takeLinear("head.weight", outDim: config.numClasses, inDim: dim)
        headBias = try loader.take("head.bias", [config.numClasses])
        try loader.finish()
        state = ASTRunState(config: config, options: options)
    }

    var embedding: UnsafeBufferPointer<Float> { UnsafeBufferPointer(state.embedding) }

    func forward(features: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, taps: TapHandler?) {
        let dim = config.dim!, grid = config.patchGrid, tokens = grid.count + 2, x = state.x
        patchEmbedding(out: x + 2 * dim, features: features, columns: state.columns, weight: patchWeight, bias: patchBias,
                       melBins: config.melBins, frames: config.frames, grid: grid,
                       kernel: config.patchKernel, stride: config.patchStride, padding: config.patchPadding,
                       workers: state.workers)
        x.update(from: clsToken, count: dim)
        (x + dim).update(from: distToken, count: dim)
        for i in 0 ..< tokens * dim { x[i] += positions[i] }
        taps?("patch_embed", UnsafeBufferPointer(start: x, count: tokens * dim), [tokens, dim])

        let tapEvery = max(blocks.count / 4, 1)
        for (i, block) in blocks.enumerated() {
            block.forward(x: x, tokens: tokens, state: state)
            if (i + 1) % tapEvery == 0 {
                taps?("block\(i + 1)", UnsafeBufferPointer(start: x, count: tokens * dim), [tokens, dim])
            }
        }

        // Only the CLS and distillation tokens reach the head.
        layerNorm(out: state.xNorm, inp: x, weight: normWeight, bias: normBias, rows: 2, dim: dim, eps: normEpsilon,
                  workers: state.workers)
        let pooled = state.embedding.baseAddress!
        for c in 0 ..< dim { pooled[c] = (state.xNorm[c] + state.xNorm[dim + c]) / 2 }
        layerNorm(out: pooled, inp: pooled, weight: headNormWeight, bias: headNormBias, rows: 1, dim: dim, eps: 1e-5,
                  workers: state.workers)
        taps?("embedding", UnsafeBufferPointer(state.embedding), [dim])
        linear(out: logits, inp: pooled, weight: headWeight, bias: headBias, rows: 1, workers: state.workers)
        taps?("logits", UnsafeBufferPointer(start: logits, count: config.numClasses), [config.numClasses])
    }
}

/// A pre-norm ViT block: `x += proj(attn(norm1(x)))`, `x += mlp(norm2(x))`.
struct ViTBlock {
    let dim: Int
    let heads: Int
    let norm1Weight, norm1Bias: UnsafePointer<Float> // {prefix}.norm1.{weight,bias} (dim)
    let qkvWeight: LinearWeight, qkvBias: UnsafePointer<Float>   // {prefix}.attn.qkv.weight (3·dim, dim), .bias
    let projWeight: LinearWeight, projBias: UnsafePointer<Float> // {prefix}.attn.proj.weight (dim, dim), .bias
    let norm2Weight, norm2Bias: UnsafePointer<Float> // {prefix}.norm2.{weight,bias} (dim)
    let mlp: FeedForward                              // {prefix}.mlp.*

    init(prefix: String, dim: Int, heads: Int, mlpRatio: Int, loader: WeightLoader) throws {
        self.dim = dim
        self.heads = heads
        norm1Weight = try loader.take("\(prefix).norm1.weight", [dim])
        norm1Bias = try loader.take("\(prefix).norm1.bias", [dim])
        qkvWeight = try loader.takeLinear("\(prefix).attn.qkv.weight", outDim: 3 * dim, inDim: dim)
        qkvBias = try loader.take("\(prefix).attn.qkv.bias", [3 * dim])
        projWeight = try loader.takeLinear("\(prefix).attn.proj.weight", outDim: dim, inDim: dim)
        projBias = try loader.take("\(prefix).attn.proj.bias", [dim])
        norm2Weight = try loader.take("\(prefix).norm2.weight", [dim])
        norm2Bias = try loader.take("\(prefix).norm2.bias", [dim])
        mlp = try FeedForward(prefix: "\(prefix).mlp", dim: dim, hidden: mlpRatio * dim, loader: loader)
    }

    func forward(x: UnsafeMutablePointer<Float>, tokens: Int, state: ASTRunState) {
        let hd = dim / heads, scale = 1 / Float(hd).squareRoot(), workers = state.workers
        layerNorm(out: state.xNorm, inp: x, weight: norm1Weight, bias: norm1Bias, rows: tokens, dim: dim, eps: normEpsilon,
                  workers: workers)
        linear(out: state.qkv, inp: state.xNorm, weight: qkvWeight, bias: qkvBias, rows: tokens, workers: workers)
        parallelChunks(heads, costPerItem: 2 * tokens * tokens * hd, workers: workers.count) { worker, range in
            for h in range {
                let q = state.qkv + h * hd
                let head = PackedHead(k: q + dim, v: q + 2 * dim, stride: 3 * dim, keys: tokens, headDim: hd,
                                      into: state.packedHeads[worker])
                attentionHead(out: state.attended + h * hd, outStride: dim, q: q, qStride: 3 * dim,
                              keys: head.keys, values: head.values, scores: state.scores[worker],
                              queries: tokens, scale: scale, accumulate: false)
            }
        }
        linear(out: x, inp: state.attended, weight: projWeight, bias: projBias, rows: tokens, accumulate: true, workers: workers)
        layerNorm(out: state.xNorm, inp: x, weight: norm2Weight, bias: norm2Bias, rows: tokens, dim: dim, eps: normEpsilon,
                  workers: workers)
        mlp.forward(xNorm: state.xNorm, out: x, hidden: state.hidden, rows: tokens, workers: workers)
    }
}

/// Every buffer one AST forward pass needs, allocated once.
final class ASTRunState {
    let x: UnsafeMutablePointer<Float>        // residual stream (tokens, dim)
    let xNorm: UnsafeMutablePointer<Float>    // (tokens, dim)
    let qkv: UnsafeMutablePointer<Float>      // (tokens, 3·dim)
    let attended: UnsafeMutablePointer<Float> // (tokens, dim)
    let scores: [UnsafeMutablePointer<Float>] // one head per worker: (tokens, tokens)
    let packedHeads: [UnsafeMutablePointer<Float>] // one head per worker: PackedHead storage
    let hidden: UnsafeMutablePointer<Float>   // (tokens, mlpRatio·dim)
    let columns: UnsafeMutablePointer<Float>  // patch im2col: (patches, kF·kT)
    let embedding: UnsafeMutableBufferPointer<Float> // (dim)
    /// The model's `EngineOptions.threads`, which `scores` and `packedHeads` are sized for.
    let workers: Workers
    private let arena: ScratchArena

    init(config: ArchitectureConfig, options: EngineOptions) {
        let dim = config.dim!, patches = config.patchGrid.count, tokens = patches + 2
        let arena = ScratchArena(), make = arena.make
        self.arena = arena
        let int8 = options.precision == .int8
        workers = Workers(count: options.threads, int8Rows: int8 ? tokens : 0,
                          int8Depth: max(config.mlpRatio * dim, config.patchKernel[0] * config.patchKernel[1]), arena: arena)
        x = make(tokens * dim); xNorm = make(tokens * dim); qkv = make(tokens * 3 * dim)
        attended = make(tokens * dim); scores = (0 ..< options.threads).map { _ in make(tokens * tokens) }
        packedHeads = (0 ..< options.threads).map { _ in make(PackedHead.capacity(keys: tokens, headDim: dim / config.heads!)) }
        hidden = make(tokens * config.mlpRatio * dim)
        columns = make(patches * config.patchKernel[0] * config.patchKernel[1])
        embedding = UnsafeMutableBufferPointer(start: make(dim), count: dim)
    }
}
