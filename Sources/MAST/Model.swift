import Features
import Foundation

/// Called with each intermediate activation of a forward pass (name, values, shape), for parity
/// tests and debugging. Names: `patch_embed`, `stage1`…`stageN` (MAST) or `block{i}` (AST),
/// `embedding`, `logits`.
public typealias TapHandler = (_ name: String, _ values: UnsafeBufferPointer<Float>, _ shape: [Int]) -> Void

/// A network with its weights and scratch buffers. Not reentrant: one forward pass at a time.
protocol Network: AnyObject {
    var config: ArchitectureConfig { get }
    var embedding: UnsafeBufferPointer<Float> { get }
    func forward(features: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, taps: TapHandler?)
}

/// One output class: its display name and AudioSet id (e.g. "Speech", "/m/09x0r").
public struct ClassLabel: Codable, Equatable, Sendable {
    public var name: String
    public var id: String

    public init(name: String, id: String) {
        self.name = name
        self.id = id
    }
}

/// AST's feature normalisation, `(x - mean) / (2 · std)`.
public struct FeatureNormalization: Codable, Equatable, Sendable {
    public var mean: Float
    public var std: Float
}

/// A complete model: architecture, front-end parameters, class list and weights, from one
/// safetensors file (see training/mast_tagger/model_file.py for the metadata it carries).
public final class Model: @unchecked Sendable {
    public static let format = "mast-tagger/1"

    public let config: ArchitectureConfig
    /// The front end the network was trained on.
    public let fbank: FbankOptions
    public let normalization: FeatureNormalization
    public let classes: [ClassLabel]
    /// Where the weights came from: a file path, or "random(seed)".
    public let source: String
    /// Threads, precision and int8 kernel this model computes with.
    public let options: EngineOptions
    /// The file the weights were read from, as it was then; nil for random weights.
    public let fileStamp: FileStamp?
    private let network: Network

    /// Loads and validates a model file; every failure names the file and the key or field.
    /// `options` must have no `problem` (the configuration and flags check them first).
    public init(path: String, options: EngineOptions = EngineOptions()) throws {
        precondition(options.problem == nil, options.problem ?? "")
        let file = try SafeTensorsFile(path: path)
        func field<T: Decodable>(_ name: String, _ type: T.Type, decoder: JSONDecoder = Self.decoder) throws -> T {
            guard let text = file.metadata[name] else {
                throw ModelFileError.badMetadata(path: path, field: name, reason: "missing")
            }
            do {
                return try decoder.decode(T.self, from: Data(text.utf8))
            } catch {
                throw ModelFileError.badMetadata(path: path, field: name, reason: Self.describe(error))
            }
        }
        guard file.metadata["format"] == Self.format else {
            throw ModelFileError.badMetadata(path: path, field: "format",
                                             reason: "is \(file.metadata["format"].map { "'\($0)'" } ?? "missing"), expected '\(Self.format)'")
        }
        let config = try field("architecture", ArchitectureConfig.self)
        do { try config.validate() } catch {
            throw ModelFileError.badMetadata(path: path, field: "architecture", reason: "\(error)")
        }
        let classes = try field("classes", [ClassLabel].self)
        guard classes.count == config.numClasses else {
            throw ModelFileError.badMetadata(path: path, field: "classes",
                                             reason: "\(classes.count) classes for \(config.numClasses) logits")
        }
        let fbank = try field("fbank", FbankOptions.self, decoder: JSONDecoder())
        do { try fbank.validate() } catch {
            throw ModelFileError.badMetadata(path: path, field: "fbank", reason: "\(error)")
        }
        guard fbank.numMelBins == config.melBins else {
            throw ModelFileError.badMetadata(path: path, field: "fbank",
                                             reason: "\(fbank.numMelBins) mel bins for a network that takes \(config.melBins)")
        }
        self.normalization = try field("normalization", FeatureNormalization.self)
        self.config = config
        self.classes = classes
        self.fbank = fbank
        self.source = path
        self.fileStamp = file.stamp
        self.options = options
        self.network = try Self.network(config, WeightLoader(file: file, options: options), options: options)
    }

    /// A model with deterministic random weights, for `bench` and `info` without a trained file.
    public init(randomWeights config: ArchitectureConfig, seed: UInt64 = 1, options: EngineOptions = EngineOptions()) throws {
        precondition(options.problem == nil, options.problem ?? "")
        try config.validate()
        self.config = config
        self.classes = (0 ..< config.numClasses).map { ClassLabel(name: "class \($0)", id: "/x/\($0)") }
        self.normalization = FeatureNormalization(mean: -4.2677393, std: 4.5689974)
        self.fbank = FbankOptions(numMelBins: config.melBins)
        self.source = "random(\(seed))"
        self.fileStamp = nil
        self.options = options
        self.network = try Self.network(config, WeightLoader(randomSeed: seed, options: options), options: options)
    }

    private static func network(_ config: ArchitectureConfig, _ loader: WeightLoader, options: EngineOptions) throws -> Network {
        switch config.family {
        case .mast: return try MASTNetwork(config: config, loader: loader, options: options)
        case .ast: return try ASTNetwork(config: config, loader: loader, options: options)
        }
    }

    /// Logits for one window of normalised features `[frames × melBins]` (time-major).
    public func classify(features: UnsafeBufferPointer<Float>, logits: UnsafeMutableBufferPointer<Float>, taps: TapHandler? = nil) {
        precondition(features.count == config.frames * config.melBins, "features must be frames × mel bins")
        precondition(logits.count == config.numClasses, "logits must hold one value per class")
        network.forward(features: features.baseAddress!, logits: logits.baseAddress!, taps: taps)
    }

    public func classify(features: [Float]) -> [Float] {
        var logits = [Float](repeating: 0, count: config.numClasses)
        features.withUnsafeBufferPointer { f in
            logits.withUnsafeMutableBufferPointer { classify(features: f, logits: $0) }
        }
        return logits
    }

    /// The pooled embedding of the last `classify` call (`[embeddingDim]`).
    public var embedding: UnsafeBufferPointer<Float> { network.embedding }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return "not valid JSON: \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
