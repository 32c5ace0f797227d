import COpenBLAS

/// LayerNorm epsilon inside the networks (MViTv2 and timm's ViT); AST's head norm differs.
let normEpsilon: Float = 1e-6

/// `out[m, n] (=|+=) a[m, k] · b[n, k]ᵀ`, row-major with leading dimensions, through sgemm.
@inline(__always)
func gemmTransposedB(
    out: UnsafeMutablePointer<Float>, ldOut: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, m: Int, n: Int, k: Int, accumulate: Bool = false
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, out, Int32(ldOut))
}

/// `out[rows, outDim] (=|+=) inp[rows, inDim] · weight[outDim, inDim]ᵀ + bias[outDim]`,
/// split by rows over the workers.
///
/// With `accumulate` the product is added to what `out` holds, which is how residual
/// connections are fused into the matrix product.
@inline(__always)
func linear(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false
) {
    parallelChunks(rows, costPerItem: inDim * outDim) { _, range in
        let first = range.lowerBound
        gemmTransposedB(out: out + first * outDim, ldOut: outDim, a: inp + first * inDim, lda: inDim,
                        b: weight, ldb: inDim, m: range.count, n: outDim, k: inDim, accumulate: accumulate)
        if let bias { addBias(out + first * outDim, bias, rows: range.count, dim: outDim) }
    }
}

/// `x[r, :] += bias` for every row.
@inline(__always)
func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, dim: Int) {
    for r in 0 ..< rows {
        let row = x + r * dim
        for c in 0 ..< dim { row[c] += bias[c] }
    }
}
