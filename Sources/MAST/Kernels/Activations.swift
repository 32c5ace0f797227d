import Foundation

/// Exact GELU, `x · Φ(x)` with the error function, as PyTorch's default `nn.GELU()`.
@inline(__always)
func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0 ..< count {
        let v = x[i]
        x[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752))
    }
}

/// In-place softmax over each row of `x[rows, cols]`.
@inline(__always)
func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0 ..< rows {
        let row = x + r * cols
        var peak = -Float.infinity
        for c in 0 ..< cols { peak = max(peak, row[c]) }
        var sum: Float = 0
        for c in 0 ..< cols { let e = expf(row[c] - peak); row[c] = e; sum += e }
        let inverse = 1 / sum
        for c in 0 ..< cols { row[c] *= inverse }
    }
}
