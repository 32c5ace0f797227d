/// The transformer MLP, added into the residual stream: `out += fc2(GELU(fc1(xNorm)))`.
struct FeedForward {
    let dim: Int
    let hidden: Int
    let fc1Weight: LinearWeight, fc1Bias: UnsafePointer<Float>  // {prefix}.fc1.weight (hidden, dim), .bias (hidden)
    let fc2Weight: LinearWeight, fc2Bias: UnsafePointer<Float>  // {prefix}.fc2.weight (dim, hidden), .bias (dim)

    init(prefix: String, dim: Int, hidden: Int, loader: WeightLoader) throws {
        self.dim = dim
        self.hidden = hidden
        fc1Weight = try loader.takeLinear("\(prefix).fc1.weight", outDim: hidden, inDim: dim)
        fc1Bias = try loader.take("\(prefix).fc1.bias", [hidden])
        fc2Weight = try loader.takeLinear("\(prefix).fc2.weight", outDim: dim, inDim: hidden)
        fc2Bias = try loader.take("\(prefix).fc2.bias", [dim])
    }

    /// `hidden` is scratch of `rows × hidden` floats.
    func forward(xNorm: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, hidden scratch: UnsafeMutablePointer<Float>, rows: Int,
                 workers: Workers) {
        linear(out: scratch, inp: xNorm, weight: fc1Weight, bias: fc1Bias, rows: rows, workers: workers)
        gelu(scratch, count: rows * hidden, workers: workers)
        linear(out: out, inp: scratch, weight: fc2Weight, bias: fc2Bias, rows: rows, accumulate: true, workers: workers)
    }
}
