/// A MAST (MViTv2) block:
///
///     xn = norm1(x)
///     skip = maxpool(dimIn ≠ dimOut ? proj(xn) : x)   (pooled only when the q stride > 1)
///     y = skip + attn(xn)
///     y = y + mlp(norm2(y))                            mlp: fc1 (4·dimOut), GELU, fc2
struct MultiscaleBlock {
    let plan: BlockPlan
    let norm1Weight, norm1Bias: UnsafePointer<Float>  // blocks.{i}.norm1.{weight,bias} (dimIn)
    let attention: PoolingAttention                    // blocks.{i}.attn.*
    let projWeight: LinearWeight?                      // blocks.{i}.proj.weight (dimOut, dimIn), when the width changes
    let projBias: UnsafePointer<Float>?                // blocks.{i}.proj.bias (dimOut)
    let norm2Weight, norm2Bias: UnsafePointer<Float>  // blocks.{i}.norm2.{weight,bias} (dimOut)
    let mlp: FeedForward                               // blocks.{i}.mlp.*
    /// The skip connection's max pool (kernel stride + 1 on a pooled axis), made once here so a
    /// forward pass allocates nothing.
    let skipPoolKernel: [Int]
    let skipPoolPadding: [Int]

    init(plan: BlockPlan, index: Int, mlpRatio: Int, loader: WeightLoader) throws {
        self.plan = plan
        skipPoolKernel = plan.qStride.map { $0 > 1 ? $0 + 1 : 1 }
        skipPoolPadding = skipPoolKernel.map { $0 / 2 }
        let prefix = "blocks.\(index)"
        norm1Weight = try loader.take("\(prefix).norm1.weight", [plan.dimIn])
        norm1Bias = try loader.take("\(prefix).norm1.bias", [plan.dimIn])
        attention = try PoolingAttention(plan: plan, prefix: "\(prefix).attn", loader: loader)
        if plan.dimIn != plan.dimOut {
            projWeight = try loader.takeLinear("\(prefix).proj.weight", outDim: plan.dimOut, inDim: plan.dimIn)
            projBias = try loader.take("\(prefix).proj.bias", [plan.dimOut])
        } else {
            projWeight = nil; projBias = nil
        }
        norm2Weight = try loader.take("\(prefix).norm2.weight", [plan.dimOut])
        norm2Bias = try loader.take("\(prefix).norm2.bias", [plan.dimOut])
        mlp = try FeedForward(prefix: "\(prefix).mlp", dim: plan.dimOut, hidden: mlpRatio * plan.dimOut, loader: loader)
    }

    /// `x[gridIn, dimIn]` → `y[gridQ, dimOut]`; `x` and `y` are distinct buffers.
    func forward(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, state: MASTRunState) {
        let p = plan, n = p.gridIn.count, nq = p.gridQ.count, workers = state.workers
        layerNorm(out: state.xNorm, inp: x, weight: norm1Weight, bias: norm1Bias, rows: n, dim: p.dimIn, eps: normEpsilon,
                  workers: workers)

        var skip = UnsafePointer(x)
        if let projWeight {
            linear(out: state.skip, inp: state.xNorm, weight: projWeight, bias: projBias, rows: n, workers: workers)
            skip = UnsafePointer(state.skip)
        }
        if p.poolsQueries {
            maxPool(out: y, inp: skip, channels: p.dimOut, gridIn: p.gridIn, gridOut: p.gridQ,
                    kernel: skipPoolKernel, stride: p.qStride, padding: skipPoolPadding)
        } else {
            y.update(from: skip, count: nq * p.dimOut)
        }

        attention.forward(xNorm: state.xNorm, out: y, state: state)
        layerNorm(out: state.xNorm, inp: y, weight: norm2Weight, bias: norm2Bias, rows: nq, dim: p.dimOut, eps: normEpsilon,
                  workers: workers)
        mlp.forward(xNorm: state.xNorm, out: y, hidden: state.hidden, rows: nq, workers: workers)
    }
}
