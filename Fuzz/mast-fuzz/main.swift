import AudioInput
import CFuzzerDriver
import Foundation
import Logging
import MAST
import Tagger

/// Coverage-guided fuzzing (libFuzzer) of the parsers that read untrusted bytes. Built only with
/// `MAST_FUZZ=1` and `-sanitize=fuzzer` (see `make fuzz`); the target comes from the environment:
///
///     MAST_FUZZ_TARGET=wav .build-fuzz/debug/mast-fuzz Fuzz/corpus/wav -max_total_time=60
///
/// Each target must return for every input: an error is fine, a trap, an out-of-bounds access or
/// an allocation beyond libFuzzer's limit (-rss_limit_mb, 2 GB) is a finding.
enum FuzzTarget: String, CaseIterable {
    /// WAVReader: RIFF header, chunks, then the data as mono.
    case wav
    /// RawPCMReader: the first 4 bytes pick format, channels and rate; the rest is the stream.
    case pcm
    /// Model(path:): safetensors header and entries, metadata, architecture, weights.
    case model
    /// The configuration loader: YAML, keys, types and every bound.
    case config
}

let quiet = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
let selected = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["MAST_FUZZ_TARGET"] ?? "")

/// `bytes` as a file, for the readers that open paths: a memfd, named through /proc.
func withFile<T>(_ bytes: UnsafeRawBufferPointer, _ body: (String) throws -> T) rethrows -> T {
    let fd = mast_fuzz_memory_file()
    precondition(fd >= 0, "memfd_create failed")
    defer { close(fd) }
    var written = 0
    while written < bytes.count {
        let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
        precondition(n > 0, "write to a memfd failed")
        written += n
    }
    return try body("/proc/self/fd/\(fd)")
}

/// One input (libFuzzer's entry point by name, which its driver's objects refer to).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    switch selected! {
    case .wav:
        withFile(bytes) { path in
            if let reader = try? WAVReader(path: path, logger: quiet) { _ = try? reader.readAllMono() }
        }
    case .pcm:
        guard bytes.count >= 4 else { return 0 }
        let format = AudioFormat(sampleFormat: SampleFormat.allCases[Int(bytes[0]) % SampleFormat.allCases.count],
                                 sampleRate: Int(bytes[1]) * 4000, channels: Int(bytes[2]) % 80)
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "pipe failed")
        defer { close(ends[0]) }
        // At most a pipe's buffer, so the write never blocks.
        let stream = UnsafeRawBufferPointer(rebasing: bytes[4 ..< min(bytes.count, 4 + 60000)])
        _ = write(ends[1], stream.baseAddress, stream.count)
        close(ends[1])
        guard let reader = try? RawPCMReader(fileDescriptor: ends[0], format: format, name: "fuzz", logger: quiet) else { return 0 }
        let frames = 1 + Int(bytes[3])
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: frames * format.bytesPerFrame, alignment: 16)
        defer { buffer.deallocate() }
        while let read = try? reader.readFrames(into: buffer, maxFrames: frames), read > 0 {}
    case .model:
        withFile(bytes) { path in _ = try? Model(path: path) }
    case .config:
        _ = try? TaggerConfig.loader.load(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
    }
    return 0
}

guard selected != nil else {
    FileHandle.standardError.write(Data("set MAST_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
    exit(2)
}
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) })
