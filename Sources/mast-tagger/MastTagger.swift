import ArgumentParser

@main
struct MastTagger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mast-tagger",
        abstract: "Always-on audio event tagger built on the Multiscale Audio Spectrogram Transformer.",
        subcommands: [RunCommand.self, TagCommand.self, EmbedCommand.self, DevicesCommand.self, InfoCommand.self, BenchCommand.self])
}
