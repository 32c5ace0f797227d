import ArgumentParser
import MAST

/// Which network a command works on: a model file, or a shipped architecture with random weights.
struct ModelSelection: ParsableArguments {
    @Option(name: .customLong("arch"), help: "A shipped architecture: \(ArchitectureConfig.presets.keys.sorted().joined(separator: ", ")).")
    var architecture: String?

    @Option(help: "A model file (.safetensors).")
    var model: String?

    @Option(help: "Input length in frames (10 ms each), overriding the architecture's.")
    var frames: Int?

    func validate() throws {
        if architecture != nil && model != nil { throw ValidationError("give --arch or --model, not both") }
        if let architecture, ArchitectureConfig.presets[architecture] == nil {
            throw ValidationError("unknown architecture '\(architecture)'; known: \(ArchitectureConfig.presets.keys.sorted().joined(separator: ", "))")
        }
        if let frames, frames <= 0 { throw ValidationError("--frames must be positive") }
        if frames != nil && model != nil { throw ValidationError("--frames applies to --arch; a model file fixes its input length") }
    }

    /// The preset named by --arch (with --frames applied).
    func preset(_ name: String) throws -> ArchitectureConfig {
        var config = ArchitectureConfig.presets[name]!
        if let frames { config.frames = frames }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        return config
    }
}
