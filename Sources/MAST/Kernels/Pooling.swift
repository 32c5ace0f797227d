/// Token pooling on a (frequency × time) grid, channels last: token `i` of the grid holds its
/// `channels` values at `inp[i * inStride ..< i * inStride + channels]`.

/// Depthwise 2-D convolution without bias whose filters are shared by every head: channel `c`
/// uses filter `c % headDim` (MViTv2 pools each head's q, k or v with one conv). `weight` is
/// tap-major, `[kF · kT, headDim]` (transposed from PyTorch's `[headDim, 1, kF, kT]` at load), so
/// the innermost loop runs over contiguous channels of both input and filter.
/// Out-of-grid taps read zero. `out` is dense: `out[gridOut.count, channels]`.
func depthwiseConvPool(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, inStride: Int, weight: UnsafePointer<Float>,
    channels: Int, headDim: Int, gridIn: Grid, gridOut: Grid, kernel: [Int], stride: [Int], padding: [Int]
) {
    let kF = kernel[0], kT = kernel[1]
    out.update(repeating: 0, count: gridOut.count * channels)
    for of in 0 ..< gridOut.f {
        for ot in 0 ..< gridOut.t {
            let y = out + (of * gridOut.t + ot) * channels
            for i in 0 ..< kF {
                let f = of * stride[0] - padding[0] + i
                guard f >= 0, f < gridIn.f else { continue }
                for j in 0 ..< kT {
                    let t = ot * stride[1] - padding[1] + j
                    guard t >= 0, t < gridIn.t else { continue }
                    let x = inp + (f * gridIn.t + t) * inStride
                    let w = weight + (i * kT + j) * headDim
                    var c = 0
                    while c < channels {  // one head's channels at a time
                        for h in 0 ..< headDim { y[c + h] += x[c + h] * w[h] }
                        c += headDim
                    }
                }
            }
        }
    }
}

/// Max pooling with padding that never wins (PyTorch's `max_pool2d` semantics).
/// `inp[gridIn.count, channels]` → `out[gridOut.count, channels]`.
func maxPool(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, channels: Int,
    gridIn: Grid, gridOut: Grid, kernel: [Int], stride: [Int], padding: [Int]
) {
    for of in 0 ..< gridOut.f {
        for ot in 0 ..< gridOut.t {
            let y = out + (of * gridOut.t + ot) * channels
            y.update(repeating: -.infinity, count: channels)
            for i in 0 ..< kernel[0] {
                let f = of * stride[0] - padding[0] + i
                guard f >= 0, f < gridIn.f else { continue }
                for j in 0 ..< kernel[1] {
                    let t = ot * stride[1] - padding[1] + j
                    guard t >= 0, t < gridIn.t else { continue }
                    let x = inp + (f * gridIn.t + t) * channels
                    for c in 0 ..< channels { y[c] = max(y[c], x[c]) }
                }
            }
        }
    }
}
