/// Row-wise LayerNorm: `out[r, :] = (x[r, :] - mean) / sqrt(var + eps) * weight + bias`.
/// `out` may alias `inp`. Statistics are accumulated in Double: rows are short and this keeps the
/// result independent of summation order, close to PyTorch's.
@inline(__always)
func layerNorm(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float
) {
    for r in 0 ..< rows {
        let x = inp + r * dim, y = out + r * dim
        var sum: Double = 0
        for c in 0 ..< dim { sum += Double(x[c]) }
        let mean = Float(sum / Double(dim))
        var squares: Double = 0
        for c in 0 ..< dim { let d = x[c] - mean; squares += Double(d * d) }
        let inverse = 1 / (Float(squares / Double(dim)) + eps).squareRoot()
        for c in 0 ..< dim { y[c] = (x[c] - mean) * inverse * weight[c] + bias[c] }
    }
}
