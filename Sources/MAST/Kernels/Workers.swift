import CQuantizedKernels

/// The workers one forward pass splits its work over (the model's `EngineOptions.threads`), and
/// each worker's scratch for the int8 products: the quantized rows of its share of the input and
/// their scales. Made once with the run state, so a forward pass allocates nothing.
struct Workers {
    let count: Int
    /// Rows and (padded) depth each worker's int8 scratch holds; 0 for a float32 model.
    private let rowCapacity: Int
    private let depthCapacity: Int
    private let int8Rows: [UnsafeMutablePointer<UInt8>]
    private let int8RowScales: [UnsafeMutablePointer<Float>]

    /// `int8Rows` rows of at most `int8Depth` values: the largest input any linear layer of the
    /// network quantizes (0 rows for float32).
    init(count: Int, int8Rows rows: Int, int8Depth depth: Int, arena: ScratchArena) {
        self.count = count
        rowCapacity = rows
        depthCapacity = Int(mast_q8_padded_depth(Int32(depth)))
        let bytes = rows * depthCapacity
        int8Rows = rows == 0 ? [] : (0 ..< count).map { _ in
            UnsafeMutableRawPointer(arena.make((bytes + 3) / 4)).bindMemory(to: UInt8.self, capacity: bytes)
        }
        int8RowScales = rows == 0 ? [] : (0 ..< count).map { _ in arena.make(rows) }
    }

    /// Worker `worker`'s int8 scratch, for `rows` rows of depth `k`.
    func int8Scratch(_ worker: Int, rows: Int, k: Int) -> (rows: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>) {
        precondition(rows <= rowCapacity && Int(mast_q8_padded_depth(Int32(k))) <= depthCapacity,
                     "int8 scratch made for \(rowCapacity) rows of depth \(depthCapacity), asked for \(rows) of \(k)")
        return (int8Rows[worker], int8RowScales[worker])
    }
}
