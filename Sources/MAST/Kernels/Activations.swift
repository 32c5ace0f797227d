/// GELU with the error function (PyTorch's default `nn.GELU()`), `x · ½(1 + erf(x/√2))`.
@inline(__always)
func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, workers: Workers) {
    parallelChunks(count, costPerItem: 16, workers: workers.count) { _, range in
        for i in range {
            let v = x[i]
            x[i] = 0.5 * v * (1 + fastErf(v * 0.70710678118654752))
        }
    }
}

/// In-place softmax over each row of `x[rows, cols]`, on the calling thread (attention already
/// runs one head per worker).
@inline(__always)
func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0 ..< rows {
            let row = x + r * cols
            let peak = maximum(row, count: cols)
            for c in 0 ..< cols { row[c] = fastExp(row[c] - peak) }
            let inverse = 1 / sum(row, count: cols)
            for c in 0 ..< cols { row[c] *= inverse }
        }
}
