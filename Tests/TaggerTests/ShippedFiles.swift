import AudioInput
import Foundation
import Logging
import MAST

/// What the repository ships that tests run: the default model and the example recording.
enum ShippedFiles {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// models/mast-tagger.safetensors, loaded in the engine's current precision.
    static func model() throws -> Model {
        try Model(path: repository.appendingPathComponent("models/mast-tagger.safetensors").path)
    }

    /// examples/scene.wav as mono samples.
    static func exampleSamples() throws -> [Float] {
        try WAVReader(path: repository.appendingPathComponent("examples/scene.wav").path, logger: Logger(label: "test")).readAllMono()
    }
}
