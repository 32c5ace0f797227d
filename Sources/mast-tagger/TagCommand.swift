import ArgumentParser
import AudioInput
import Foundation
import Logging
import MAST
import Tagger

/// The pipeline over files, as fast as the CPU allows: `event` records per file, or with
/// `--top-k` one `summary` per file.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Tag WAV files: events, or the top classes of each file with --top-k.")

    @OptionGroup var options: TaggerOptions

    @Option(name: .customLong("top-k"), help: "Print one summary per file with the K classes of highest window score.")
    var topK: Int?

    @Argument(help: "WAV files (any rate, channel count, 16/24/32-bit or float).")
    var files: [String]

    func validate() throws {
        if let topK, topK <= 0 { throw ValidationError("--top-k must be positive") }
    }

    func run() throws {
        bootstrapLogging(level: .warning)
        try StandardDescriptors.requireOpen(input: false, output: true)
        let config = try options.configuration()
        let model = try ModelLocator.load(config)
        let encoder = RecordEncoder(format: config.output.format)
        let logger = Logger(label: "mast-tagger")
        // Files wait for a slow reader rather than lose records.
        let output = StdoutSink(backpressure: .wait)
        output.start()
        var failures = 0
        for file in files where !output.isClosed {
            do {
                try tag(file, model: model, config: config, encoder: encoder, output: output, logger: logger)
            } catch {
                // A configuration error found against the model (an unknown class) is placed in the file.
                FileHandle.standardError.write(Data("mast-tagger: \(options.locate(error))\n".utf8))
                failures += 1
            }
        }
        output.finish()
        try output.failIfUnwritten()
        if failures > 0 { throw ExitCode(1) }
    }

    private func tag(_ file: String, model: Model, config: TaggerConfig, encoder: RecordEncoder, output: StdoutSink,
                     logger: Logger) throws {
        var settings = try StreamTagger.Settings(config: config)
        settings.backpressure = .wait
        settings.tagsTopK = 0
        let tagger = try StreamTagger(model: model, settings: settings) { record in
            guard topK == nil else { return }
            if case .event(var event) = record {  // onsets only matter live; a file's events are complete
                event.file = file
                output.write(line: encoder.line(.event(event)))
            }
        }
        tagger.start()
        try feed(file: file, to: tagger, channel: config.input.channel, logger: logger)
        if let topK { output.write(line: encoder.line(.summary(.init(file: file, labels: tagger.topClasses(topK))))) }
    }
}

/// Runs a WAV file through a tagger as fast as the tagger takes it, then finishes the tagger.
func feed(file: String, to tagger: StreamTagger, channel: ChannelSelection, logger: Logger) throws {
    let source = WAVFileSource(path: file, options: .init(channelSelection: channel, outputRate: tagger.sampleRate),
                               logger: logger)
    let ring = try RingBuffer(capacity: tagger.sampleRate * 4)
    try source.start(into: ring)
    drain(ring, into: { tagger })
    source.stop()
    tagger.finish()
    if let error = source.lastError { throw error }
}

extension StdoutSink {
    /// After `finish()`: fails (exit 1, with the reason on stderr) when records could not be
    /// written; EPIPE is a reader that has all it wanted (`tag … | head`) and ends the run quietly.
    func failIfUnwritten() throws {
        guard let error = writeError, !error.isBrokenPipe else { return }
        FileHandle.standardError.write(Data("mast-tagger: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
