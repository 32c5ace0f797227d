import ArgumentParser
import Foundation
import Logging
import MAST
import Tagger

/// Logs to stderr (journald-aware); file commands (`tag`, `embed`) only say what went wrong.
func bootstrapLogging(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = JournaldLogHandler(label: label)
        handler.logLevel = level
        return handler
    }
}

/// Options `run` and `tag` share: the configuration file and the flags that override it.
struct TaggerOptions: ParsableArguments {
    @Option(help: "Configuration file (YAML; see config.yaml). Flags override it.")
    var config: String?

    @Option(help: "Model file (.safetensors). Default: the config's `model`, else the installed model.")
    var model: String?

    @Option(help: "Output format: jsonl or text.")
    var format: OutputFormat?

    @Option(help: "Seconds between window starts.")
    var hop: Double?

    @Option(help: "Inference threads.")
    var threads: Int?

    @Option(help: "Linear-layer precision: auto, f32 or int8 (int8 needs AVX2).")
    var precision: TaggerConfig.Precision?

    /// The configuration file (or the defaults) with the flags applied. The flags pass the
    /// same checks as the file's keys (`TaggerConfig.validate`); a problem with a flag's value
    /// names the key it overrides.
    func configuration() throws -> TaggerConfig {
        var config = try self.config.map { try TaggerConfig.loader.load(path: $0) } ?? TaggerConfig()
        if let model { config.model = model }
        if let format { config.output.format = format }
        if let hop { config.windows.hop = hop }
        if let threads { config.threads = threads }
        if let precision { config.precision = precision }
        try config.validate()
        return config
    }

    /// An error found after loading (building the pipeline), with the configuration file's
    /// name and the key's line when the key comes from the file.
    func locate(_ error: Error) -> Error {
        guard let error = error as? ConfigError, let path = config else { return error }
        return TaggerConfig.loader.locate(error, inFileAt: path)
    }
}

extension OutputFormat: ExpressibleByArgument {}
extension TaggerConfig.Precision: ExpressibleByArgument {}

/// Where the model comes from when no path is given: the one `make install` puts beside the
/// binary's share directory, or the one in the source tree next to a build.
enum ModelLocator {
    static let fileName = "mast-tagger.safetensors"

    static func resolve(_ configured: String) throws -> String {
        if !configured.isEmpty { return configured }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [
            executable.appendingPathComponent("../share/mast-tagger/\(fileName)"),   // PREFIX/bin → PREFIX/share
            executable.appendingPathComponent("../../../models/\(fileName)"),        // .build/<triple>/release → repo
            executable.appendingPathComponent("../../models/\(fileName)"),           // .build/release → repo
        ].map { $0.standardizedFileURL.path }
        guard let found = candidates.first(where: FileManager.default.fileExists(atPath:)) else {
            throw ValidationError("no model given and none installed (looked in \(candidates.joined(separator: ", "))); pass --model FILE")
        }
        return found
    }

    /// Loads the model with the configuration's threads and precision, its own options.
    static func load(_ config: TaggerConfig) throws -> Model {
        try Model(path: resolve(config.model), options: config.engineOptions())
    }
}
