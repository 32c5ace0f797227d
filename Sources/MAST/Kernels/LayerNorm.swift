/// Row-wise LayerNorm: `out[r, :] = (x[r, :] - mean) / sqrt(var + eps) * weight + bias`.
/// `out` may alias `inp`.
@inline(__always)
func layerNorm(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float, workers: Workers
) {
    parallelChunks(rows, costPerItem: 8 * dim, workers: workers.count) { _, range in
        for r in range {
            let x = inp + r * dim, y = out + r * dim
            let mean = sum(x, count: dim) / Float(dim)
            let inverse = 1 / (sumOfSquares(x, count: dim, center: mean) / Float(dim) + eps).squareRoot()
            for c in 0 ..< dim { y[c] = (x[c] - mean) * inverse * weight[c] + bias[c] }
        }
    }
}
