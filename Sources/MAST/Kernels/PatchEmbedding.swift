/// The patch embedding: a Conv2d with one input channel over the spectrogram image, done as
/// im2col + one sgemm.
///
/// `features[frames, melBins]` is time-major; the image it represents has height `melBins`
/// (frequency) and width `frames` (time), so pixel (f, t) is `features[t * melBins + f]`.
/// `columns[grid.count, kF * kT]` is scratch. `out[grid.count, weight.outDim]` (tokens frequency-major).
func patchEmbedding(
    out: UnsafeMutablePointer<Float>, features: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
    weight: LinearWeight, bias: UnsafePointer<Float>, melBins: Int, frames: Int,
    grid: Grid, kernel: [Int], stride: [Int], padding: [Int], workers: Workers
) {
    let kF = kernel[0], kT = kernel[1], k = kF * kT
    for of in 0 ..< grid.f {
        for ot in 0 ..< grid.t {
            let column = columns + (of * grid.t + ot) * k
            for i in 0 ..< kF {
                let f = of * stride[0] - padding[0] + i
                for j in 0 ..< kT {
                    let t = ot * stride[1] - padding[1] + j
                    let inside = f >= 0 && f < melBins && t >= 0 && t < frames
                    column[i * kT + j] = inside ? features[t * melBins + f] : 0
                }
            }
        }
    }
    linear(out: out, inp: columns, weight: weight, bias: bias, rows: grid.count, workers: workers)
}
