import CQuantizedKernels

/// A linear layer's weight quantized to int8 for `mast_q8_gemm` (see quantized_gemm.h for the
/// scheme): s8 panels, one scale and one column sum per output column, packed for one kernel.
struct QuantizedMatrix {
    let kernel: Int8Kernel
    let packed: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<Int32>
    let k: Int
    let n: Int

    /// Quantizes `weight[n, k]` (stored (out, in), rows `k` apart) for `kernel`; `allocate`
    /// hands out owned bytes.
    init(weight: UnsafePointer<Float>, n: Int, k: Int, kernel: Int8Kernel, allocate: (Int) -> UnsafeMutableRawPointer) {
        precondition(kernel.isAvailable, "this CPU does not run the \(kernel.rawValue) int8 kernel")
        self.kernel = kernel; self.k = k; self.n = n
        let columns = PackedMatrix.panelCount(n) * PackedMatrix.panelWidth
        packed = allocate(mast_q8_packed_bytes(Int32(n), Int32(k))).assumingMemoryBound(to: Int8.self)
        scales = allocate(columns * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
        sums = allocate(columns * MemoryLayout<Int32>.stride).assumingMemoryBound(to: Int32.self)
        mast_q8_pack_weights(weight, Int32(k), Int32(n), Int32(k), mast_q8_weight_limit(kernel.code), packed, scales, sums)
    }

    /// `out[m, n] = inp[m, k] · weight (+ bias) (+ out)`, on the calling thread.
    /// `scratch` holds the quantized rows (m × padded k bytes) and their m scales: the calling
    /// worker's, made with the run state (a temporary allocation here was one heap allocation
    /// per product once m·k passed the stack's share).
    func multiply(out: UnsafeMutablePointer<Float>, ldOut: Int, inp: UnsafePointer<Float>, lda: Int, rows m: Int,
                  bias: UnsafePointer<Float>?, accumulate: Bool,
                  scratch: (rows: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>)) {
        mast_q8_gemm(kernel.code, out, Int32(ldOut), inp, Int32(lda), Int32(m), packed, scales, sums, Int32(n), Int32(k),
                     bias, accumulate ? 1 : 0, scratch.rows, scratch.scales)
    }
}
