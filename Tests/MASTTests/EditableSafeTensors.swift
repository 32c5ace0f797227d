import Foundation

/// A safetensors file held in memory so tests can damage it in specific ways and write it back.
struct EditableSafeTensors {
    struct Tensor {
        var dtype: String
        var shape: [Int]
        var data: Data
    }

    var metadata: [String: String]
    var tensors: [String: Tensor]

    init(path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8 ..< 8 + headerLength)) as! [String: Any]
        let data = bytes.subdata(in: 8 + headerLength ..< bytes.count)
        metadata = header["__metadata__"] as? [String: String] ?? [:]
        tensors = [:]
        for (name, value) in header where name != "__metadata__" {
            let entry = value as! [String: Any]
            let offsets = entry["data_offsets"] as! [Int]
            tensors[name] = Tensor(dtype: entry["dtype"] as! String, shape: entry["shape"] as! [Int],
                                   data: data.subdata(in: offsets[0] ..< offsets[1]))
        }
    }

    func serialized() throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var body = Data()
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            header[name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [body.count, body.count + tensor.data.count]]
            body.append(tensor.data)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    /// Writes the file to a fresh temporary path and returns the path.
    func write(_ name: String) throws -> String {
        try Self.writeTemporary(serialized(), name: name)
    }

    static func writeTemporary(_ data: Data, name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mast-tests-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(name).safetensors")
        try data.write(to: url)
        return url.path
    }
}
