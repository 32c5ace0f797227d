/// The engine's matrix product: `out[m, n] (=|+=) α · a[m, k] · b[k, n] (+ bias[n])`, with `b`
/// packed beforehand into column panels so the inner loop reads it contiguously.
///
/// Why not sgemm: the streaming models multiply small matrices (k = 32…512, n = 8…1024), where
/// OpenBLAS spent a fifth of its time re-packing operands on every call and each of the ~550
/// rel-pos products per mast-t window paid its fixed call cost. Weights are packed once at load;
/// activations used as `b` (attention keys and values) are packed once per block. Measured
/// against OpenBLAS side by side, float32, per window: mast-t 0.73×, mast-s 0.78×, mast-b 0.89×,
/// ast 0.89× of OpenBLAS's time (BENCHMARKS.md).
///
/// Layout, for `panelWidth` = 16 (two AVX registers):
///
///     panels[p][kk][0 ..< 16] = b[kk, 16p ..< 16p + 16]    (columns past n are zero)
struct PackedMatrix {
    static let panelWidth = 16

    let storage: UnsafeMutablePointer<Float>
    let k: Int
    let n: Int

    var panelCount: Int { Self.panelCount(n) }
    static func panelCount(_ n: Int) -> Int { (n + panelWidth - 1) / panelWidth }
    /// Floats of storage for a `k × n` matrix.
    static func capacity(k: Int, n: Int) -> Int { panelCount(n) * panelWidth * k }

    /// The matrix already packed in `storage`.
    init(viewing storage: UnsafeMutablePointer<Float>, k: Int, n: Int) {
        self.storage = storage; self.k = k; self.n = n
    }

    /// Packs `rows[n, k]` (row `j` is column `j` of `b`, i.e. `b = rowsᵀ`: weights stored
    /// (out, in), attention keys) into `storage`.
    init(transposing rows: UnsafePointer<Float>, rowStride: Int, n: Int, k: Int, into storage: UnsafeMutablePointer<Float>) {
        self.storage = storage; self.k = k; self.n = n
        let w = Self.panelWidth
        for panel in 0 ..< Self.panelCount(n) {
            let base = storage + panel * w * k
            for lane in 0 ..< w {
                let j = panel * w + lane
                if j < n {
                    let row = rows + j * rowStride
                    for kk in 0 ..< k { base[kk * w + lane] = row[kk] }
                } else {
                    for kk in 0 ..< k { base[kk * w + lane] = 0 }
                }
            }
        }
    }

    /// Packs `b[k, n]` given row-major with `rowStride` (attention values) into `storage`.
    init(_ b: UnsafePointer<Float>, rowStride: Int, k: Int, n: Int, into storage: UnsafeMutablePointer<Float>) {
        self.storage = storage; self.k = k; self.n = n
        let w = Self.panelWidth
        for panel in 0 ..< Self.panelCount(n) {
            let base = storage + panel * w * k, first = panel * w, width = min(w, n - first)
            for kk in 0 ..< k {
                let source = b + kk * rowStride + first, target = base + kk * w
                for lane in 0 ..< width { target[lane] = source[lane] }
                for lane in width ..< w { target[lane] = 0 }
            }
        }
    }
}

/// `out[m, n] = α · a[m, k] · b + (accumulate ? out : 0) + bias`, rows `lda` / `ldOut` apart.
/// Runs on the calling thread; callers split rows over workers.
func gemm(
    out: UnsafeMutablePointer<Float>, ldOut: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix,
    rows m: Int, alpha: Float = 1, accumulate: Bool = false, bias: UnsafePointer<Float>? = nil
) {
    guard m > 0 else { return }
    // Panel-outer: one panel (k × 16 floats) stays in L1/L2 while the rows stream past it.
    for panel in 0 ..< b.panelCount {
        let first = panel * PackedMatrix.panelWidth
        let width = min(PackedMatrix.panelWidth, b.n - first)
        let panelData = UnsafePointer(b.storage + panel * PackedMatrix.panelWidth * b.k)
        var biasLow = SIMD8<Float>(), biasHigh = SIMD8<Float>()
        if let bias {
            for lane in 0 ..< min(width, 8) { biasLow[lane] = bias[first + lane] }
            for lane in 8 ..< max(width, 8) { biasHigh[lane - 8] = bias[first + lane] }
        }
        let store = TileStore(ldOut: ldOut, width: width, alpha: alpha, accumulate: accumulate,
                              biasLow: biasLow, biasHigh: biasHigh)
        var row = 0
        while row < m {
            // Six rows at a time; a tail of one or two rows (and a matrix-vector product) goes
            // row by row rather than computing a mostly discarded six-row tile.
            let count = m - row >= 3 ? min(6, m - row) : 1
            if count == 1 {
                gemmRow(out: out + row * ldOut + first, a: a + row * lda, panel: panelData, k: b.k, store: store)
            } else {
                gemmTile(out: out + row * ldOut + first, a: a + row * lda, lda: lda, rowCount: count,
                         panel: panelData, k: b.k, store: store)
            }
            row += count
        }
    }
}

/// Up to 6 rows of `a` against one 16-column panel: 12 AVX accumulators, plus two for the panel
/// row and one broadcast (of 16 registers). Rows past `rowCount` repeat the last row (their
/// results are not stored), so the loop body has no branches.
@inline(__always)
private func gemmTile(
    out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, lda: Int, rowCount: Int,
    panel: UnsafePointer<Float>, k: Int, store: TileStore
) {
    let a0 = a, a1 = a + min(1, rowCount - 1) * lda, a2 = a + min(2, rowCount - 1) * lda
    let a3 = a + min(3, rowCount - 1) * lda, a4 = a + min(4, rowCount - 1) * lda, a5 = a + min(5, rowCount - 1) * lda
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var p = UnsafeRawPointer(panel)
    for kk in 0 ..< k {
        let b0 = p.loadUnaligned(as: SIMD8<Float>.self)
        let b1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        var x = SIMD8<Float>(repeating: a0[kk]); c00.addProduct(x, b0); c01.addProduct(x, b1)
        x = SIMD8<Float>(repeating: a1[kk]); c10.addProduct(x, b0); c11.addProduct(x, b1)
        x = SIMD8<Float>(repeating: a2[kk]); c20.addProduct(x, b0); c21.addProduct(x, b1)
        x = SIMD8<Float>(repeating: a3[kk]); c30.addProduct(x, b0); c31.addProduct(x, b1)
        x = SIMD8<Float>(repeating: a4[kk]); c40.addProduct(x, b0); c41.addProduct(x, b1)
        x = SIMD8<Float>(repeating: a5[kk]); c50.addProduct(x, b0); c51.addProduct(x, b1)
        p += 64
    }
    let ld = store.ldOut
    store.row(c00, c01, to: out)
    if rowCount > 1 { store.row(c10, c11, to: out + ld) }
    if rowCount > 2 { store.row(c20, c21, to: out + 2 * ld) }
    if rowCount > 3 { store.row(c30, c31, to: out + 3 * ld) }
    if rowCount > 4 { store.row(c40, c41, to: out + 4 * ld) }
    if rowCount > 5 { store.row(c50, c51, to: out + 5 * ld) }
}

/// One row of `a` against one panel.
@inline(__always)
private func gemmRow(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, panel: UnsafePointer<Float>, k: Int, store: TileStore) {
    var c0 = SIMD8<Float>(), c1 = SIMD8<Float>()
    var p = UnsafeRawPointer(panel)
    for kk in 0 ..< k {
        let x = SIMD8<Float>(repeating: a[kk])
        c0.addProduct(x, p.loadUnaligned(as: SIMD8<Float>.self))
        c1.addProduct(x, p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
        p += 64
    }
    store.row(c0, c1, to: out)
}

/// How a tile's accumulators are written: `out = α·acc (+ out) + bias` over `width` columns.
private struct TileStore {
    let ldOut: Int
    let width: Int
    let alpha: Float
    let accumulate: Bool
    let biasLow, biasHigh: SIMD8<Float>

    @inline(__always)
    func row(_ accLow: SIMD8<Float>, _ accHigh: SIMD8<Float>, to target: UnsafeMutablePointer<Float>) {
        var low = accLow * alpha + biasLow, high = accHigh * alpha + biasHigh
        if width == PackedMatrix.panelWidth {
            let raw = UnsafeMutableRawPointer(target)
            if accumulate {
                low += raw.loadUnaligned(as: SIMD8<Float>.self)
                high += raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            }
            raw.storeBytes(of: low, as: SIMD8<Float>.self)
            raw.storeBytes(of: high, toByteOffset: 32, as: SIMD8<Float>.self)
        } else {
            for lane in 0 ..< width {
                let value = lane < 8 ? low[lane] : high[lane - 8]
                target[lane] = accumulate ? target[lane] + value : value
            }
        }
    }
}
