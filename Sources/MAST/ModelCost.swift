/// Parameters and multiply-accumulates of one window, counted analytically from the
/// architecture with the same formulas for MAST and AST, so the two can be compared.
///
/// MACs count every product the forward pass computes: the patch convolution, linear layers,
/// depthwise pooling convolutions, q·kᵀ, attention·v, the relative-position products and the
/// head. Norms, softmax, GELU and pooling maxima are not MACs and are left out.
public struct ModelCost: Sendable {
    public struct Part: Sendable {
        public var name: String          // "patch_embed", "stage1"…, "blocks", "head"
        public var blocks: Int
        public var grid: Grid            // output token grid (CLS/distillation tokens not included)
        public var kvGrid: Grid?         // key/value grid of the part's last block (MAST)
        public var dim: Int
        public var heads: Int
        public var qStride: [Int]?
        public var parameters: Int
        public var macs: Int
    }

    public let parts: [Part]
    public var parameters: Int { parts.reduce(0) { $0 + $1.parameters } }
    public var macs: Int { parts.reduce(0) { $0 + $1.macs } }

    public init(config: ArchitectureConfig) {
        let patch = config.patchGrid, kernelArea = config.patchKernel[0] * config.patchKernel[1]
        let r = config.mlpRatio
        var parts: [Part] = []
        func mlp(_ d: Int) -> (parameters: Int, macsPerToken: Int) { (2 * r * d * d + r * d + d, 2 * r * d * d) }

        switch config.family {
        case .mast:
            let plans = BlockPlan.plans(for: config)
            let d0 = plans[0].dimIn
            parts.append(Part(name: "patch_embed", blocks: 0, grid: patch, kvGrid: nil, dim: d0, heads: 0, qStride: nil,
                              parameters: d0 * kernelArea + d0, macs: patch.count * d0 * kernelArea))
            for stage in 0 ..< (config.stages?.count ?? 0) {
                let stagePlans = plans.filter { $0.stage == stage }
                var parameters = 0, macs = 0
                for p in stagePlans {
                    let n = p.gridIn.count, nq = p.gridQ.count, nk = p.gridKV.count
                    let dIn = p.dimIn, d = p.dimOut, hd = p.headDim, taps = p.kernel[0] * p.kernel[1]
                    let relRows = (2 * max(p.gridQ.f, p.gridKV.f) - 1) + (2 * max(p.gridQ.t, p.gridKV.t) - 1)
                    parameters += 2 * dIn                                   // norm1
                        + 3 * d * dIn + 3 * d                               // qkv
                        + 3 * (hd * taps + 2 * hd)                          // pool_{q,k,v}, norm_{q,k,v}
                        + relRows * hd                                      // rel_pos_f, rel_pos_t
                        + d * d + d                                         // attn.proj
                        + (dIn != d ? d * dIn + d : 0)                      // skip proj
                        + 2 * d + mlp(d).parameters                         // norm2, mlp
                    macs += n * dIn * 3 * d                                 // qkv
                        + (nq + 2 * nk) * d * taps                          // q, k, v pooling
                        + 2 * nq * nk * d                                   // q·kᵀ and attn·v, all heads
                        + nq * (p.gridKV.f + p.gridKV.t) * d                // relative position
                        + nq * d * d                                        // attn.proj
                        + (dIn != d ? n * dIn * d : 0)                      // skip proj
                        + nq * mlp(d).macsPerToken
                }
                let last = stagePlans[stagePlans.count - 1]
                parts.append(Part(name: "stage\(stage + 1)", blocks: stagePlans.count, grid: last.gridQ, kvGrid: last.gridKV,
                                  dim: last.dimOut, heads: last.heads, qStride: stagePlans[0].qStride,
                                  parameters: parameters, macs: macs))
            }
            let d = config.embeddingDim
            parts.append(Part(name: "head", blocks: 0, grid: Grid(f: 1, t: 1), kvGrid: nil, dim: d, heads: 0, qStride: nil,
                              parameters: 2 * d + config.numClasses * (d + 1), macs: d * config.numClasses))
        case .ast:
            let d = config.dim!, depth = config.depth!, n = patch.count + 2
            parts.append(Part(name: "patch_embed", blocks: 0, grid: patch, kvGrid: nil, dim: d, heads: 0, qStride: nil,
                              parameters: d * kernelArea + d + 2 * d + n * d, macs: patch.count * d * kernelArea))
            let blockParameters = 2 * d + 3 * d * d + 3 * d + d * d + d + 2 * d + mlp(d).parameters
            let blockMACs = n * d * 3 * d + 2 * n * n * d + n * d * d + n * mlp(d).macsPerToken
            parts.append(Part(name: "blocks", blocks: depth, grid: patch, kvGrid: patch, dim: d, heads: config.heads!, qStride: nil,
                              parameters: depth * blockParameters, macs: depth * blockMACs))
            parts.append(Part(name: "head", blocks: 0, grid: Grid(f: 1, t: 1), kvGrid: nil, dim: d, heads: 0, qStride: nil,
                              parameters: 4 * d + config.numClasses * (d + 1), macs: d * config.numClasses))
        }
        self.parts = parts
    }
}
