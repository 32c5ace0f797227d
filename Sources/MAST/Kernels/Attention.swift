/// One head of scaled dot-product attention, on strided row views so heads are read in place:
///
///     scores[queries, keys] = scale · q · kᵀ   (+ positionBias(scores), before the softmax)
///     out (=|+=) softmax(scores) · v
///
/// `keys` is the head's k packed as `kᵀ` (headDim × keys) and `values` its v (keys × headDim),
/// both packed by the caller once per head. `q` and `out` point at the head's first column; their
/// rows are `*Stride` floats apart. With `accumulate`, `out` keeps what it holds (MViTv2's
/// residual pooling adds the pooled q).
func attentionHead(
    out: UnsafeMutablePointer<Float>, outStride: Int, q: UnsafePointer<Float>, qStride: Int,
    keys: PackedMatrix, values: PackedMatrix, scores: UnsafeMutablePointer<Float>,
    queries: Int, scale: Float, accumulate: Bool,
    // Not optional: an optional closure is escaping, and its context was a heap allocation per
    // head and band in every forward pass.
    positionBias: (UnsafeMutablePointer<Float>) -> Void = { _ in }
) {
    gemm(out: scores, ldOut: keys.n, a: q, lda: qStride, b: keys, rows: queries, alpha: scale)
    positionBias(scores)
    softmaxRows(scores, rows: queries, cols: keys.n)
    gemm(out: out, ldOut: outStride, a: scores, lda: keys.n, b: values, rows: queries, accumulate: accumulate)
}

/// Storage for one head's packed keys and values over `keys` tokens.
struct PackedHead {
    let keys: PackedMatrix
    let values: PackedMatrix

    static func capacity(keys: Int, headDim: Int) -> Int {
        PackedMatrix.capacity(k: headDim, n: keys) + PackedMatrix.capacity(k: keys, n: headDim)
    }

    /// The head packed in `storage` earlier.
    init(viewing storage: UnsafeMutablePointer<Float>, keys: Int, headDim: Int) {
        self.keys = PackedMatrix(viewing: storage, k: headDim, n: keys)
        values = PackedMatrix(viewing: storage + PackedMatrix.capacity(k: headDim, n: keys), k: keys, n: headDim)
    }

    /// Packs `k[keys, headDim]` and `v[keys, headDim]` (rows `stride` apart) into `storage`.
    init(k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, keys: Int, headDim: Int,
         into storage: UnsafeMutablePointer<Float>) {
        self.keys = PackedMatrix(transposing: k, rowStride: stride, n: keys, k: headDim, into: storage)
        values = PackedMatrix(v, rowStride: stride, k: keys, n: headDim,
                              into: storage + PackedMatrix.capacity(k: headDim, n: keys))
    }
}
