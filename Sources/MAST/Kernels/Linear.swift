/// LayerNorm epsilon inside the networks (MViTv2 and timm's ViT); AST's head norm differs.
let normEpsilon: Float = 1e-6

/// `out[rows, outDim] (=|+=) inp[rows, inDim] · weight + bias[outDim]`, split by rows over the
/// workers; `weight` is the layer's (outDim, inDim) matrix packed as `inDim × outDim`, in float32
/// or int8.
///
/// With `accumulate` the product is added to what `out` holds, which is how residual
/// connections are fused into the matrix product.
@inline(__always)
func linear(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: LinearWeight,
    bias: UnsafePointer<Float>?, rows: Int, accumulate: Bool = false, workers: Workers
) {
    let inDim = weight.inDim, outDim = weight.outDim
    parallelChunks(rows, costPerItem: inDim * outDim, workers: workers.count) { worker, range in
        let first = range.lowerBound
        switch weight {
        case .float32(let matrix):
            gemm(out: out + first * outDim, ldOut: outDim, a: inp + first * inDim, lda: inDim, b: matrix,
                 rows: range.count, accumulate: accumulate, bias: bias)
        case .int8(let matrix):
            matrix.multiply(out: out + first * outDim, ldOut: outDim, inp: inp + first * inDim, lda: inDim,
                            rows: range.count, bias: bias, accumulate: accumulate,
                            scratch: workers.int8Scratch(worker, rows: range.count, k: inDim))
        }
    }
}

/// A linear layer's weight as the engine multiplies it: packed float32, or int8 where the
/// model was loaded for int8 (`EngineOptions.precision`).
enum LinearWeight {
    case float32(PackedMatrix)
    case int8(QuantizedMatrix)

    var inDim: Int {
        switch self {
        case .float32(let matrix): matrix.k
        case .int8(let matrix): matrix.k
        }
    }

    var outDim: Int {
        switch self {
        case .float32(let matrix): matrix.n
        case .int8(let matrix): matrix.n
        }
    }
}
