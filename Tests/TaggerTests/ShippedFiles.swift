import AudioInput
import Foundation
import Logging
import MAST

/// What the repository ships that tests run: the default model and the example recording.
enum ShippedFiles {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// models/mast-tagger.safetensors, loaded with `options`.
    static func model(options: EngineOptions = EngineOptions()) throws -> Model {
        try Model(path: repository.appendingPathComponent("models/mast-tagger.safetensors").path, options: options)
    }

    /// examples/scene.wav as mono samples.
    static func exampleSamples() throws -> [Float] {
        try WAVReader(path: repository.appendingPathComponent("examples/scene.wav").path, logger: Logger(label: "test")).readAllMono()
    }
}
