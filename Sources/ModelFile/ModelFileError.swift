/// Everything that can be wrong with a model file. Each case names the file and, where there is
/// one, the tensor key or metadata field, so a user can tell which export went wrong.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case corruptTensor(path: String, key: String, reason: String)
    case unsupportedDType(path: String, key: String, dtype: String)
    case missingTensor(path: String, key: String, expectedShape: [Int]?)
    case unexpectedTensors(path: String, keys: [String])
    case shapeMismatch(path: String, key: String, expected: [Int], actual: [Int])
    case nonFinite(path: String, key: String)
    case badMetadata(path: String, field: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open model file: \(reason)"
        case let .corrupt(path, reason):
            return "\(path): not a valid safetensors file: \(reason)"
        case let .corruptTensor(path, key, reason):
            return "\(path): tensor '\(key)': \(reason)"
        case let .unsupportedDType(path, key, dtype):
            return "\(path): tensor '\(key)' has dtype \(dtype); supported are F32, F16 and BF16"
        case let .missingTensor(path, key, expectedShape):
            let shape = expectedShape.map { " with shape \($0)" } ?? ""
            return "\(path): missing tensor '\(key)'\(shape)"
        case let .unexpectedTensors(path, keys):
            let shown = keys.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            return "\(path): \(keys.count) tensor(s) not used by the architecture: \(shown)\(keys.count > 5 ? ", …" : "")"
        case let .shapeMismatch(path, key, expected, actual):
            return "\(path): tensor '\(key)' has shape \(actual), expected \(expected)"
        case let .nonFinite(path, key):
            return "\(path): tensor '\(key)' contains NaN or infinite values"
        case let .badMetadata(path, field, reason):
            return "\(path): metadata '\(field)': \(reason)"
        }
    }
}
