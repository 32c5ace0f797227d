/// MViTv2 pooling attention with decomposed relative position and residual pooling.
///
///     qkv = Linear(dimIn, 3·dimOut)(x)                  x: gridIn tokens
///     q, k, v = LayerNorm_hd(DepthwiseConv(·)) per head   q: gridQ, k and v: gridKV tokens
///     attn = softmax(q·kᵀ/√hd + q·Rf[qf, kf] + q·Rt[qt, kt])
///     out = Linear(dimOut, dimOut)(attn·v + q)
struct PoolingAttention {
    let plan: BlockPlan
    let qkvWeight: LinearWeight            // blocks.{i}.attn.qkv.weight (3·dimOut, dimIn)
    let qkvBias: UnsafePointer<Float>      // blocks.{i}.attn.qkv.bias (3·dimOut)
    /// q, k, v in that order: depthwise filters shared by all heads and their LayerNorms.
    let poolWeight: [UnsafePointer<Float>] // blocks.{i}.attn.pool_{q,k,v}.weight (hd, 1, kF, kT), stored (kF·kT, hd)
    let normWeight: [UnsafePointer<Float>] // blocks.{i}.attn.norm_{q,k,v}.weight (hd)
    let normBias: [UnsafePointer<Float>]   // blocks.{i}.attn.norm_{q,k,v}.bias (hd)
    /// Relative-position tables gathered at load time for every (query, key) pair on one axis and
    /// packed per query position as `gemm` operands (hd × keys on that axis):
    /// `relPosF[qf]` = Rf[qf, 0 ..< kvF]ᵀ from blocks.{i}.attn.rel_pos_f (2·max(qF, kvF) − 1, hd), and
    /// `relPosT[qt]` = Rt[qt, 0 ..< kvT]ᵀ from blocks.{i}.attn.rel_pos_t (2·max(qT, kvT) − 1, hd).
    let relPosF: [PackedMatrix]
    let relPosT: [PackedMatrix]
    let projWeight: LinearWeight           // blocks.{i}.attn.proj.weight (dimOut, dimOut)
    let projBias: UnsafePointer<Float>     // blocks.{i}.attn.proj.bias (dimOut)
    /// `plan.padding`, made once here so a forward pass allocates nothing.
    let padding: [Int]

    init(plan: BlockPlan, prefix: String, loader: WeightLoader) throws {
        self.plan = plan
        padding = plan.padding
        let hd = plan.headDim, d = plan.dimOut, kernel = plan.kernel
        qkvWeight = try loader.takeLinear("\(prefix).qkv.weight", outDim: 3 * d, inDim: plan.dimIn)
        qkvBias = try loader.take("\(prefix).qkv.bias", [3 * d])
        var pools: [UnsafePointer<Float>] = [], weights: [UnsafePointer<Float>] = [], biases: [UnsafePointer<Float>] = []
        for name in ["q", "k", "v"] {
            let taps = kernel[0] * kernel[1]
            let pool = try loader.take("\(prefix).pool_\(name).weight", [hd, 1, kernel[0], kernel[1]])
            let tapMajor = loader.allocate(taps * hd)
            for c in 0 ..< hd { for tap in 0 ..< taps { tapMajor[tap * hd + c] = pool[c * taps + tap] } }
            pools.append(UnsafePointer(tapMajor.baseAddress!))
            weights.append(try loader.take("\(prefix).norm_\(name).weight", [hd]))
            biases.append(try loader.take("\(prefix).norm_\(name).bias", [hd]))
        }
        poolWeight = pools; normWeight = weights; normBias = biases
        relPosF = try Self.gatheredTable(loader.take("\(prefix).rel_pos_f", [2 * max(plan.gridQ.f, plan.gridKV.f) - 1, hd]),
                                         queries: plan.gridQ.f, keys: plan.gridKV.f, headDim: hd, loader: loader)
        relPosT = try Self.gatheredTable(loader.take("\(prefix).rel_pos_t", [2 * max(plan.gridQ.t, plan.gridKV.t) - 1, hd]),
                                         queries: plan.gridQ.t, keys: plan.gridKV.t, headDim: hd, loader: loader)
        projWeight = try loader.takeLinear("\(prefix).proj.weight", outDim: d, inDim: d)
        projBias = try loader.take("\(prefix).proj.bias", [d])
    }

    /// Row `index(q, k)` of a relative-position table for each (q, k) on one axis. Distances are
    /// rescaled when the grids differ; computed in Double exactly as the reference does.
    static func tableIndex(query: Int, key: Int, queries: Int, keys: Int) -> Int {
        let qRatio = max(Double(keys) / Double(queries), 1), kRatio = max(Double(queries) / Double(keys), 1)
        return Int(Double(query) * qRatio - Double(key) * kRatio + Double(keys - 1) * kRatio)
    }

    private static func gatheredTable(
        _ table: UnsafePointer<Float>, queries: Int, keys: Int, headDim: Int, loader: WeightLoader
    ) -> [PackedMatrix] {
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: keys * headDim)
        defer { gathered.deallocate() }
        return (0 ..< queries).map { q in
            for k in 0 ..< keys {
                let row = table + tableIndex(query: q, key: k, queries: queries, keys: keys) * headDim
                for c in 0 ..< headDim { gathered[k * headDim + c] = row[c] }
            }
            let storage = loader.allocate(PackedMatrix.capacity(k: headDim, n: keys)).baseAddress!
            return PackedMatrix(transposing: gathered, rowStride: headDim, n: keys, k: headDim, into: storage)
        }
    }

    /// Attention of `xNorm[gridIn, dimIn]`, added (after `proj`) into `out[gridQ, dimOut]`.
    func forward(xNorm: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, state: MASTRunState) {
        let p = plan, d = p.dimOut, hd = p.headDim, nq = p.gridQ.count, nk = p.gridKV.count, workers = state.workers
        linear(out: state.qkv, inp: xNorm, weight: qkvWeight, bias: qkvBias, rows: p.gridIn.count, workers: workers)

        for (which, target) in state.pooled.enumerated() {
            let grid = which == 0 ? p.gridQ : p.gridKV
            depthwiseConvPool(out: target, inp: state.qkv + which * d, inStride: 3 * d, weight: poolWeight[which],
                              channels: d, headDim: hd, gridIn: p.gridIn, gridOut: grid,
                              kernel: p.kernel, stride: which == 0 ? p.qStride : p.kvStride, padding: padding)
            layerNorm(out: target, inp: target, weight: normWeight[which], bias: normBias[which],
                      rows: grid.count * p.heads, dim: hd, eps: normEpsilon, workers: workers)
        }

        // Residual pooling: every head's output starts from its pooled query.
        state.attended.update(from: state.q, count: nq * d)
        let headCapacity = PackedHead.capacity(keys: nk, headDim: hd)
        for head in 0 ..< p.heads {
            _ = PackedHead(k: state.k + head * hd, v: state.v + head * hd, stride: d, keys: nk, headDim: hd,
                           into: state.packedHeads + head * headCapacity)
        }
        // Work items: each head, with its query rows cut into bands of whole frequency rows when
        // there are fewer heads than workers (stage 1 of mast-b has one head and 4096 queries).
        let bands = min(max(workers.count / p.heads, 1), p.gridQ.f)
        parallelChunks(p.heads * bands, costPerItem: 2 * nq * nk * hd / bands, workers: workers.count) { worker, items in
            for item in items {
                let head = item / bands, band = item % bands
                let rows = (p.gridQ.f * band / bands) ..< (p.gridQ.f * (band + 1) / bands)
                let packed = PackedHead(viewing: state.packedHeads + head * headCapacity, keys: nk, headDim: hd)
                attendBand(head: head, packed: packed, frequencyRows: rows, scratch: state.attention[worker], state: state)
            }
        }
        linear(out: out, inp: state.attended, weight: projWeight, bias: projBias, rows: nq, accumulate: true, workers: workers)
    }

    /// One head's attention for the queries in grid rows `frequencyRows`, with
    /// `scores[(qf, qt), (kf, kt)] += q·Rf[qf, kf] + q·Rt[qt, kt]` before the softmax. Both
    /// position products are small sgemms, one per query grid row / column.
    private func attendBand(head: Int, packed: PackedHead, frequencyRows: Range<Int>, scratch: AttentionScratch, state: MASTRunState) {
        let p = plan, d = p.dimOut, hd = p.headDim
        let qT = p.gridQ.t, kF = p.gridKV.f, kT = p.gridKV.t
        let firstQuery = frequencyRows.lowerBound * qT, queries = frequencyRows.count * qT
        let q = state.q + firstQuery * d + head * hd
        let relF = scratch.relF, relT = scratch.relT  // [band rows, qT, kF] and [band rows, qT, kT]
        attentionHead(out: state.attended + firstQuery * d + head * hd, outStride: d, q: q, qStride: d,
                      keys: packed.keys, values: packed.values, scores: scratch.scores, queries: queries,
                      scale: 1 / Float(hd).squareRoot(), accumulate: true) { scores in
            for (row, qf) in frequencyRows.enumerated() {  // the qT queries of row qf against Rf[qf, :, :]
                gemm(out: relF + row * qT * kF, ldOut: kF, a: q + row * qT * d, lda: d, b: relPosF[qf], rows: qT)
            }
            for qt in 0 ..< qT {  // the band's queries of column qt against Rt[qt, :, :]
                gemm(out: relT + qt * kT, ldOut: qT * kT, a: q + qt * d, lda: qT * d, b: relPosT[qt],
                     rows: frequencyRows.count)
            }
            for query in 0 ..< queries {
                let row = scores + query * kF * kT, rf = relF + query * kF, rt = relT + query * kT
                for kf in 0 ..< kF {
                    let bias = rf[kf], cells = row + kf * kT
                    for kt in 0 ..< kT { cells[kt] += bias + rt[kt] }
                }
            }
        }
    }
}
