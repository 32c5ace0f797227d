import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A safetensors file, read into memory when opened. (Not memory-mapped: a file overwritten in
/// place while a daemon ran it was a SIGBUS. A copy costs the file's size once, at load.)
///
/// Layout: `u64 little-endian header length N`, `N bytes of JSON header`, `data`.
/// The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets relative to the start of `data`) and may hold `"__metadata__": {String: String}`.
/// Every entry is validated when the file is opened, so a truncated or corrupt file is an error
/// that names the tensor, never an out-of-bounds read later.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    /// Which file was read (device, inode, size, modification time), for a reload to tell
    /// whether the file at `path` has changed since.
    public let stamp: FileStamp
    public let metadata: [String: String]
    /// Tensor entries by name.
    public let entries: [String: Entry]

    private let contents: UnsafeRawBufferPointer
    private let dataStart: Int

    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"

        var byteCount: Int { self == .f32 ? 4 : 2 }
    }

    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        let begin: Int
        let end: Int
    }

    public convenience init(contentsOf url: URL) throws {
        try self.init(path: url.path)
    }

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ModelFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        stamp = FileStamp(info)
        let size = Int(info.st_size)
        guard size >= 8 else {
            throw ModelFileError.corrupt(path: path, reason: "file is \(size) bytes, shorter than the 8-byte header length")
        }
        let data: Data
        do {
            data = try FileHandle(fileDescriptor: fd, closeOnDealloc: false).read(upToCount: size) ?? Data()
        } catch {
            throw ModelFileError.cannotOpen(path: path, reason: "\(error)")
        }
        guard data.count == size else {
            throw ModelFileError.corrupt(path: path, reason: "read \(data.count) of \(size) bytes (the file changed or shrank while it was read)")
        }
        // Copied to 64-byte-aligned memory, which the engine's packed weights are made from.
        let base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        data.copyBytes(to: base.assumingMemoryBound(to: UInt8.self), count: size)
        let contents = UnsafeRawBufferPointer(start: base, count: size)

        do {
            // Compared as UInt64: a length above Int.max would trap in the conversion to Int.
            let declared = UInt64(littleEndian: contents.loadUnaligned(as: UInt64.self))
            guard declared > 0, declared <= UInt64(size - 8) else {
                throw ModelFileError.corrupt(path: path, reason: "header length \(declared) does not fit in a \(size)-byte file")
            }
            let headerLength = Int(declared)
            let headerBytes = Data(contents[8 ..< 8 + headerLength])
            guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
                throw ModelFileError.corrupt(path: path, reason: "header is not a JSON object")
            }
            let dataStart = 8 + headerLength
            let dataSize = size - dataStart
            var metadata: [String: String] = [:]
            var entries: [String: Entry] = [:]
            for (name, value) in header {
                if name == "__metadata__" {
                    guard let pairs = value as? [String: String] else {
                        throw ModelFileError.corrupt(path: path, reason: "__metadata__ is not a map of strings")
                    }
                    metadata = pairs
                    continue
                }
                entries[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path)
            }
            self.metadata = metadata
            self.entries = entries
            self.contents = contents
            self.dataStart = dataStart
        } catch {
            base.deallocate()
            throw error
        }
    }

    deinit {
        contents.deallocate()
    }

    private static func parseEntry(name: String, value: Any, dataSize: Int, path: String) throws -> Entry {
        func bad(_ reason: String) -> ModelFileError { .corruptTensor(path: path, key: name, reason: reason) }
        guard let fields = value as? [String: Any],
              let dtypeName = fields["dtype"] as? String,
              let shapeValues = fields["shape"] as? [NSNumber],
              let offsets = fields["data_offsets"] as? [NSNumber], offsets.count == 2
        else { throw bad("entry lacks dtype, shape or data_offsets") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw ModelFileError.unsupportedDType(path: path, key: name, dtype: dtypeName)
        }
        // Int64 values only: NSNumber's intValue would truncate 1e30 or 2^64 to something small.
        let shape = shapeValues.compactMap { Int(exactly: $0.doubleValue) }
        guard shape.count == shapeValues.count, let begin = Int(exactly: offsets[0].doubleValue), let end = Int(exactly: offsets[1].doubleValue)
        else { throw bad("shape or data_offsets hold values that are not integers") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("negative dimension in shape \(shape)") }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw bad("data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data section (file truncated?)")
        }
        // Overflow-checked: [2^40, 2^40] once wrapped to 0 bytes and matched an empty range.
        guard let expected = checkedProduct(shape + [dtype.byteCount]) else {
            throw bad("\(dtypeName) \(shape) is larger than any file can hold")
        }
        guard end - begin == expected else {
            throw bad("holds \(end - begin) bytes but \(dtypeName) \(shape) needs \(expected)")
        }
        return Entry(dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// A view of one tensor inside the file's contents; it keeps them alive.
    public func tensor(_ name: String) throws -> TensorView {
        guard let entry = entries[name] else { throw ModelFileError.missingTensor(path: path, key: name, expectedShape: nil) }
        let bytes = UnsafeRawBufferPointer(rebasing: contents[(dataStart + entry.begin) ..< (dataStart + entry.end)])
        return TensorView(name: name, dtype: entry.dtype, shape: entry.shape, bytes: bytes, file: self)
    }

    public struct TensorView {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: UnsafeRawBufferPointer
        /// Holds the contents that `bytes` points into.
        let file: SafeTensorsFile

        public var count: Int { shape.reduce(1, *) }

        /// The values converted to F32.
        public func floats() -> [Float] { SafeTensorsFile.floats(bytes, dtype: dtype) }
    }

    static func floats(_ raw: UnsafeRawBufferPointer, dtype: DType) -> [Float] {
        let count = raw.count / dtype.byteCount
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                for i in 0 ..< count { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f16:
                for i in 0 ..< count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
            case .bf16:
                for i in 0 ..< count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            }
            initialized = count
        }
    }
}
