import ArgumentParser
import AudioInput
import Foundation
import Logging
import MAST
import Tagger

/// One pooled embedding per window of a file: the representation the classifier head reads
/// (for clustering, search, or training another head).
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write one embedding per window of a WAV file, as JSON lines or a .npy array.")

    @OptionGroup var options: TaggerOptions

    @Option(help: "Write a float32 .npy array [windows, dim] here instead of JSON lines on stdout.")
    var npy: String?

    @Argument(help: "A WAV file.")
    var file: String

    func run() throws {
        bootstrapLogging(level: .warning)
        try StandardDescriptors.requireOpen(input: false, output: npy == nil)
        let config = try options.configuration()
        let model = try ModelLocator.load(config)
        var settings = try StreamTagger.Settings(config: config)
        settings.backpressure = .wait
        settings.keepEmbeddings = true
        let lock = NSLock()
        var windows: [WindowResult] = []
        let tagger = try StreamTagger(model: model, settings: settings, observe: { result in
            lock.withLock { windows.append(result) }
        }, emit: { _ in })
        tagger.start()
        try feed(file: file, to: tagger, channel: config.input.channel, logger: Logger(label: "mast-tagger"))

        let rate = Double(tagger.sampleRate)
        if let npy {
            try NumpyArray.write(rows: windows.map { $0.embedding! }, to: npy)
        } else {
            let output = StdoutSink(backpressure: .wait)
            output.start()
            for window in windows {
                let object: [String: Any] = ["file": file, "start": Double(window.startSample) / rate,
                                             "end": Double(window.endSample) / rate, "embedding": window.embedding!]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                output.write(line: String(decoding: data, as: UTF8.self))
            }
            output.finish()
            try output.failIfUnwritten()
        }
    }
}

/// NumPy's .npy format, version 1.0, for a float32 matrix (what `numpy.load` reads).
enum NumpyArray {
    static func write(rows: [[Float]], to path: String) throws {
        let columns = rows.first?.count ?? 0
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(columns)), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for row in rows { row.withUnsafeBytes { data.append(contentsOf: $0) } }
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}
