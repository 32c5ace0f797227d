import COpenBLAS

/// One head of scaled dot-product attention, on strided row views so heads are read in place:
///
///     scores[queries, keys] = scale · q · kᵀ   (+ positionBias(scores), before the softmax)
///     out (=|+=) softmax(scores) · v
///
/// `q`, `k`, `v`, `out` point at the head's first column; their rows are `*Stride` floats apart.
/// With `accumulate`, `out` keeps what it holds (MViTv2's residual pooling adds the pooled q).
func attentionHead(
    out: UnsafeMutablePointer<Float>, outStride: Int,
    q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, kStride: Int,
    v: UnsafePointer<Float>, vStride: Int, scores: UnsafeMutablePointer<Float>,
    queries: Int, keys: Int, headDim: Int, scale: Float, accumulate: Bool,
    positionBias: ((UnsafeMutablePointer<Float>) -> Void)? = nil
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queries), Int32(keys), Int32(headDim),
                scale, q, Int32(qStride), k, Int32(kStride), 0, scores, Int32(keys))
    positionBias?(scores)
    softmaxRows(scores, rows: queries, cols: keys)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(queries), Int32(headDim), Int32(keys),
                1, scores, Int32(keys), v, Int32(vStride), accumulate ? 1 : 0, out, Int32(outStride))
}
