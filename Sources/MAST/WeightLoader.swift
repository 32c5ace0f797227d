import Foundation

/// Hands out weight tensors by key, checking each against the shape the architecture expects,
/// and keeps the memory they live in alive for as long as the model holds the loader.
///
/// F32 tensors are used in place from the memory-mapped file; F16 and BF16 are widened once into
/// owned buffers. `finish()` fails if any tensor in the file was never asked for, so every key is
/// used exactly once. Without a file the loader makes deterministic random weights (for `bench`
/// and `info` on an architecture that has no trained file).
public final class WeightLoader: @unchecked Sendable {
    private enum Source {
        case file(SafeTensorsFile)
        case random(SplitMix64)
    }

    private var source: Source
    /// The precision and int8 kernel linear weights are packed for.
    private let options: EngineOptions
    private var used: Set<String> = []
    private var owned: [UnsafeMutableBufferPointer<Float>] = []

    public init(file: SafeTensorsFile, options: EngineOptions) {
        source = .file(file)
        self.options = options
    }

    public init(randomSeed: UInt64, options: EngineOptions) {
        source = .random(SplitMix64(seed: randomSeed))
        self.options = options
    }

    deinit { owned.forEach { $0.deallocate() } }

    /// The tensor `key`, which must have exactly `shape`.
    public func take(_ key: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
        precondition(!used.contains(key), "weight '\(key)' requested twice")
        used.insert(key)
        let count = shape.reduce(1, *)
        switch source {
        case .file(let file):
            guard file.entries[key] != nil else {
                throw ModelFileError.missingTensor(path: file.path, key: key, expectedShape: shape)
            }
            let view = try file.tensor(key)
            guard view.shape == shape else {
                throw ModelFileError.shapeMismatch(path: file.path, key: key, expected: shape, actual: view.shape)
            }
            let pointer: UnsafePointer<Float>
            if view.dtype == .f32, Int(bitPattern: view.bytes.baseAddress) % MemoryLayout<Float>.alignment == 0 {
                pointer = view.bytes.baseAddress!.assumingMemoryBound(to: Float.self)
            } else {
                let buffer = allocate(count)
                _ = buffer.initialize(from: view.floats())
                pointer = UnsafePointer(buffer.baseAddress!)
            }
            for i in 0 ..< count where !pointer[i].isFinite {
                throw ModelFileError.nonFinite(path: file.path, key: key)
            }
            return pointer
        case .random(var generator):
            let buffer = allocate(count)
            // Norm weights near 1, everything else scaled by 1/sqrt(fan-in) so activations stay O(1).
            let isNormWeight = key.hasSuffix("weight") && key.split(separator: ".").contains { $0.hasPrefix("norm") }
            let scale = shape.count >= 2 ? 1 / Float(shape.dropFirst().reduce(1, *)).squareRoot() : 0.1
            for i in 0 ..< count {
                buffer[i] = (isNormWeight ? 1 : 0) + scale * generator.nextUniform()
            }
            source = .random(generator)
            return UnsafePointer(buffer.baseAddress!)
        }
    }

    /// The weight `key` of a linear layer, stored (outDim, inDim) or as `shape` with the same
    /// layout (a convolution's (outDim, 1, kF, kT)), packed as the product's right-hand side
    /// (inDim × outDim) in the options' precision. A widened F16/BF16 copy is freed once packed,
    /// so the model holds each matrix once.
    func takeLinear(_ key: String, outDim: Int, inDim: Int, shape: [Int]? = nil) throws -> LinearWeight {
        let ownedBefore = owned.count
        let weight = try take(key, shape ?? [outDim, inDim])
        let widened = owned.count > ownedBefore  // F16/BF16 (or random weights) in a buffer of its own
        let packed: LinearWeight
        switch options.precision {
        case .float32:
            packed = .float32(PackedMatrix(transposing: weight, rowStride: inDim, n: outDim, k: inDim,
                                           into: allocate(PackedMatrix.capacity(k: inDim, n: outDim)).baseAddress!))
        case .int8:
            packed = .int8(QuantizedMatrix(weight: weight, n: outDim, k: inDim, kernel: options.int8Kernel) { bytes in
                UnsafeMutableRawPointer(self.allocate((bytes + 3) / 4).baseAddress!)
            })
        }
        if widened { owned.remove(at: ownedBefore).deallocate() }
        return packed
    }

    /// Fails when the file holds tensors the architecture never asked for.
    public func finish() throws {
        guard case .file(let file) = source else { return }
        let unused = Set(file.entries.keys).subtracting(used).sorted()
        guard unused.isEmpty else { throw ModelFileError.unexpectedTensors(path: file.path, keys: unused) }
    }

    /// A scratch buffer owned by the loader (for weights derived at load time).
    func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        owned.append(buffer)
        return buffer
    }
}

/// A small, fast, seedable generator for reproducible random weights and inputs.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) / Float(1 << 23) - 1
    }
}
