import CQuantizedKernels
@testable import MAST
import XCTest

/// The engine's own matrix products against a plain triple loop, on sizes that leave partial
/// row tiles, partial 16-column panels and (int8) depths that are not a multiple of four.
final class MatrixProductTests: XCTestCase {
    let m = 13, n = 37, k = 43

    /// out[r][j] = Σ x[r][kk] · w[j][kk] (w stored (out, in), as linear layers keep it).
    func reference(x: [Float], w: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * n)
        for r in 0 ..< rows {
            for j in 0 ..< n {
                var sum: Double = 0
                for kk in 0 ..< k { sum += Double(x[r * k + kk]) * Double(w[j * k + kk]) }
                out[r * n + j] = Float(sum)
            }
        }
        return out
    }

    func testFloatProductMatchesPlainLoopWithScaleBiasAndAccumulate() {
        var generator = SplitMix64(seed: 7)
        let x = (0 ..< m * k).map { _ in generator.nextUniform() }
        let w = (0 ..< n * k).map { _ in generator.nextUniform() }
        let bias = (0 ..< n).map { Float($0) }
        let start = (0 ..< m * n).map { _ in generator.nextUniform() }
        let expected = reference(x: x, w: w, rows: m)
        for rows in [1, 2, 5, 6, m] {
            var packed = [Float](repeating: .nan, count: PackedMatrix.capacity(k: k, n: n))
            var out = start
            packed.withUnsafeMutableBufferPointer { storage in
                let matrix = PackedMatrix(transposing: w, rowStride: k, n: n, k: k, into: storage.baseAddress!)
                gemm(out: &out, ldOut: n, a: x, lda: k, b: matrix, rows: rows, alpha: 0.5, accumulate: true, bias: bias)
            }
            for r in 0 ..< m {
                for j in 0 ..< n {
                    let want = r < rows ? start[r * n + j] + 0.5 * expected[r * n + j] + bias[j] : start[r * n + j]
                    XCTAssertEqual(out[r * n + j], want, accuracy: 1e-4, "rows \(rows): out[\(r)][\(j)]")
                }
            }
        }
    }

    func testPackingRowMajorEqualsPackingTransposed() {
        var generator = SplitMix64(seed: 3)
        let b = (0 ..< k * n).map { _ in generator.nextUniform() }  // b[k, n]
        var transposed = [Float](repeating: 0, count: n * k)
        for kk in 0 ..< k { for j in 0 ..< n { transposed[j * k + kk] = b[kk * n + j] } }
        var first = [Float](repeating: .nan, count: PackedMatrix.capacity(k: k, n: n)), second = first
        _ = first.withUnsafeMutableBufferPointer { PackedMatrix(b, rowStride: n, k: k, n: n, into: $0.baseAddress!) }
        _ = second.withUnsafeMutableBufferPointer {
            PackedMatrix(transposing: transposed, rowStride: k, n: n, k: k, into: $0.baseAddress!)
        }
        XCTAssertEqual(first, second)
    }

    /// The int8 kernels this CPU runs (every one is checked, not only the one `auto` picks).
    func availableKernels() throws -> [Int8Kernel] {
        let kernels = Int8Kernel.allCases.filter(\.isAvailable)
        try XCTSkipIf(kernels.isEmpty, "this CPU runs no int8 kernel (needs AVX2)")
        return kernels
    }

    func quantized(_ w: [Float], kernel: Int8Kernel) -> QuantizedMatrix {
        QuantizedMatrix(weight: w, n: n, k: k, kernel: kernel) { UnsafeMutableRawPointer.allocate(byteCount: $0, alignment: 64) }
    }

    func release(_ matrix: QuantizedMatrix) {
        [UnsafeMutableRawPointer(matrix.packed), UnsafeMutableRawPointer(matrix.scales), UnsafeMutableRawPointer(matrix.sums)]
            .forEach { $0.deallocate() }
    }

    /// Integer inputs whose rows peak at exactly 127 (weights at the kernel's limit, 127 or 63)
    /// quantize without error, so the int8 product must equal the exact one: this checks the
    /// packing, the zero-point correction, the tails, bias and accumulation with no tolerance to
    /// hide behind.
    func testInt8ProductIsExactOnValuesThatQuantizeExactly() throws {
        for kernel in try availableKernels() {
            var generator = SplitMix64(seed: 11)
            func integers(_ rows: Int, _ columns: Int, limit: Float) -> [Float] {
                var values = (0 ..< rows * columns).map { _ in (generator.nextUniform() * limit).rounded() }
                for r in 0 ..< rows { values[r * columns + r % columns] = r.isMultiple(of: 2) ? limit : -limit }
                return values
            }
            let x = integers(m, k, limit: 127), w = integers(n, k, limit: kernel == .avx2 ? 63 : 127)
            let bias = (0 ..< n).map { Float($0) - 10 }
            let expected = reference(x: x, w: w, rows: m)
            let matrix = quantized(w, kernel: kernel)
            defer { release(matrix) }
            var out = [Float](repeating: 1, count: m * n)
            multiply(matrix, into: &out, x, bias: bias, accumulate: true)
            for i in 0 ..< m * n {
                XCTAssertEqual(out[i], 1 + expected[i] + bias[i % n], "\(kernel): out[\(i / n)][\(i % n)]")
            }
        }
    }

    func testInt8ProductStaysCloseOnRandomValues() throws {
        for kernel in try availableKernels() {
            var generator = SplitMix64(seed: 5)
            let x = (0 ..< m * k).map { _ in generator.nextUniform() }
            let w = (0 ..< n * k).map { _ in generator.nextUniform() }
            let expected = reference(x: x, w: w, rows: m)
            let matrix = quantized(w, kernel: kernel)
            defer { release(matrix) }
            var out = [Float](repeating: .nan, count: m * n)
            multiply(matrix, into: &out, x, bias: nil, accumulate: false)
            // Each term errs by at most |x|·δw + |ŵ|·δx, δ = half a step (max / 2·limit), values ≤ 1.
            let inputStep: Float = 0.5 / 127, weightStep = 0.5 / Float(kernel == .avx2 ? 63 : 127)
            let bound = Float(k) * (weightStep + (1 + weightStep) * inputStep)
            let errors = zip(out, expected).map { abs($0 - $1) }
            XCTAssertLessThanOrEqual(errors.max()!, bound, "\(kernel): worst error beyond the quantization bound")
            let rms = { (values: [Float]) in (values.map { $0 * $0 }.reduce(0, +) / Float(values.count)).squareRoot() }
            XCTAssertLessThan(rms(errors), 0.01 * rms(expected), "\(kernel): typical error beyond 1% of the typical output")
        }
    }

    /// A 16-bit pair sum at the AVX2 kernel's extremes (u8 255 against weight ±63 twice) must
    /// not saturate.
    func testAVX2KernelDoesNotSaturateAtTheExtremes() throws {
        try XCTSkipUnless(Int8Kernel.avx2.isAvailable, "this CPU has no AVX2")
        let x = [Float](repeating: 127, count: m * k)  // quantizes to u8 255 everywhere
        let w = (0 ..< n * k).map { i in Float(i % n == 0 ? -63 : 63) }
        let matrix = quantized(w, kernel: .avx2)
        defer { release(matrix) }
        var out = [Float](repeating: .nan, count: m * n)
        multiply(matrix, into: &out, x, bias: nil, accumulate: false)
        XCTAssertEqual(out, reference(x: x, w: w, rows: m))
    }

    /// `matrix.multiply` over `m` rows of `x`, with scratch for the quantized rows.
    func multiply(_ matrix: QuantizedMatrix, into out: inout [Float], _ x: [Float], bias: [Float]?, accumulate: Bool) {
        var rows = [UInt8](repeating: 0, count: m * Int(mast_q8_padded_depth(Int32(k))))
        var scales = [Float](repeating: 0, count: m)
        rows.withUnsafeMutableBufferPointer { rows in
            scales.withUnsafeMutableBufferPointer { scales in
                matrix.multiply(out: &out, ldOut: n, inp: x, lda: k, rows: m, bias: bias, accumulate: accumulate,
                                scratch: (rows.baseAddress!, scales.baseAddress!))
            }
        }
    }
}
