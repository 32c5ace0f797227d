import Foundation
import Logging

/// Streaming RIFF/WAVE reader: PCM 16, 24 and 32-bit integer, 32-bit IEEE float, and
/// WAVE_FORMAT_EXTENSIBLE carrying either; any channel count and rate. The header is parsed in
/// `init` (which throws an `AudioInputError` naming the file and the problem); `readFrames`
/// then delivers the data chunk in pieces. Reads are sequential only (unknown chunks such as
/// LIST are read past, not seeked over).
///
/// A data chunk shorter than its header says (a recording cut off mid-write) is not an error:
/// a tagger should tag what it has. The frames present are delivered, a warning naming the
/// file and both lengths is logged once, and `isTruncated` becomes true. A data size of
/// 0xFFFFFFFF (written by streaming encoders that cannot seek back) means "until end of file".
public final class WAVReader {
    public let path: String
    /// Sample format, rate and channels of the data chunk.
    public let format: AudioFormat
    /// Frames the data chunk header declares; nil when it declares "until end of file".
    public let declaredFrames: Int?
    public private(set) var framesRead = 0
    /// The file ended before the declared end of the data chunk.
    public private(set) var isTruncated = false

    private let fd: Int32
    private let logger: Logger
    /// Ends a wait for a FIFO's writer (nil for a regular file, which never waits).
    private let stop: StopSignal?
    /// Data bytes left according to the header (Int.max when open-ended).
    private var dataBytesLeft: Int
    /// A partial frame at the end of a truncated file is discarded, never returned.
    private var ended = false

    private static let formatPCM: UInt16 = 1
    private static let formatFloat: UInt16 = 3
    private static let formatExtensible: UInt16 = 0xFFFE

    public convenience init(path: String, logger: Logger) throws {
        try self.init(path: path, logger: logger, stop: nil)
    }

    /// Opens without blocking: a FIFO is opened at once whether or not a writer has come, and
    /// every wait for its data (the header's included) ends when `stop` fires.
    init(path: String, logger: Logger, stop: StopSignal?) throws {
        self.path = path
        self.logger = logger
        self.stop = stop
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw AudioInputError(.io, source: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        do {
            // A FIFO opened before its writer reads as empty (0 bytes) until one comes.
            try waitUntilReadable(fd, name: path, stop: stop)
            (format, dataBytesLeft) = try Self.parseHeader(fd: fd, path: path, stop: stop)
        } catch {
            close(fd)
            throw error
        }
        declaredFrames = dataBytesLeft == Int.max ? nil : dataBytesLeft / format.bytesPerFrame
    }

    deinit { close(fd) }

    /// Reads up to `maxFrames` whole interleaved frames (raw bytes in `format`) into `buffer`,
    /// which must hold `maxFrames * format.bytesPerFrame` bytes. Returns the frames read; 0 at
    /// the end of the data.
    public func readFrames(into buffer: UnsafeMutableRawPointer, maxFrames: Int) throws -> Int {
        guard !ended, maxFrames > 0 else { return 0 }
        let frameBytes = format.bytesPerFrame
        let wanted = min(maxFrames * frameBytes, dataBytesLeft / frameBytes * frameBytes)
        let got = try readFully(fd, into: buffer, count: wanted, name: path, stop: stop)
        if dataBytesLeft != Int.max { dataBytesLeft -= got }
        let frames = got / frameBytes
        framesRead += frames
        if got < wanted || wanted == 0 {
            ended = true
            if let declared = declaredFrames, framesRead < declared {
                isTruncated = true
                logger.warning("\(path): truncated: data chunk declares \(declared) frames but the file ends after \(framesRead); using the \(framesRead) frames present")
            }
        }
        return frames
    }

    /// Reads the rest of the data as mono Float at the file's rate.
    public func readAllMono(selection: ChannelSelection = .average) throws -> [Float] {
        let converter = try MonoConverter(format: format.sampleFormat, channels: format.channels, selection: selection, source: path)
        let chunkFrames = 65536
        let raw = UnsafeMutableRawPointer.allocate(byteCount: chunkFrames * format.bytesPerFrame, alignment: 16)
        defer { raw.deallocate() }
        var samples: [Float] = []
        // A header can claim 4 GB in a 40-byte file: reserve no more than a chunk ahead of what is read.
        if let declared = declaredFrames { samples.reserveCapacity(min(declared - framesRead, chunkFrames)) }
        while true {
            let frames = try readFrames(into: raw, maxFrames: chunkFrames)
            if frames == 0 { break }
            let start = samples.count
            samples.append(contentsOf: repeatElement(0, count: frames))
            samples.withUnsafeMutableBufferPointer { out in
                converter.convert(UnsafeRawBufferPointer(start: raw, count: frames * format.bytesPerFrame),
                                  frames: frames, into: out.baseAddress! + start)
            }
        }
        return samples
    }

    // MARK: Header

    /// Reads the RIFF header and chunks up to the start of the data chunk's payload.
    /// Returns the format and the data byte count (Int.max for "until end of file").
    private static func parseHeader(fd: Int32, path: String, stop: StopSignal?) throws -> (AudioFormat, Int) {
        var riff = [UInt8](repeating: 0, count: 12)
        let got = try riff.withUnsafeMutableBytes { try readFully(fd, into: $0.baseAddress!, count: 12, name: path, stop: stop) }
        if got == 0 { throw AudioInputError(.emptyFile, source: path, "empty file (0 bytes); expected a RIFF/WAVE file") }
        let magic = Array("RIFF".utf8)
        if got < 12 {
            if Array(riff[0..<min(got, 4)]) == Array(magic[0..<min(got, 4)]) {
                throw AudioInputError(.truncatedHeader, source: path, "truncated header: \(got) bytes, a RIFF/WAVE header needs 12")
            }
            throw AudioInputError(.notWAV, source: path, "not a RIFF/WAVE file (\(got) bytes, no RIFF signature)")
        }
        if riff[0..<4].elementsEqual("RF64".utf8) {
            throw AudioInputError(.unsupportedFormat, source: path, "RF64 (64-bit WAV) is not supported; convert to a RIFF WAVE under 4 GiB")
        }
        guard riff[0..<4].elementsEqual(magic), riff[8..<12].elementsEqual("WAVE".utf8) else {
            throw AudioInputError(.notWAV, source: path, "not a RIFF/WAVE file (starts with \(describe(riff[0..<4])))")
        }

        var format: AudioFormat?
        var header = [UInt8](repeating: 0, count: 8)
        while true {
            let n = try header.withUnsafeMutableBytes { try readFully(fd, into: $0.baseAddress!, count: 8, name: path, stop: stop) }
            if n == 0 {
                guard format != nil else {
                    throw AudioInputError(.truncatedHeader, source: path, "truncated header: the file ends before a fmt chunk")
                }
                throw AudioInputError(.missingDataChunk, source: path, "no data chunk: the file ends after its fmt chunk")
            }
            if n < 8 {
                throw AudioInputError(.truncatedHeader, source: path, "truncated header: the file ends inside a chunk header")
            }
            let id = String(decoding: header[0..<4], as: UTF8.self)
            let size = Int(le32(header, 4))
            switch id {
            case "fmt ":
                format = try parseFormat(fd: fd, size: size, path: path, stop: stop)
            case "data":
                guard let format else {
                    throw AudioInputError(.invalidHeader, source: path, "data chunk before the fmt chunk")
                }
                return (format, size == 0xFFFF_FFFF ? Int.max : size)
            default:
                try skip(fd: fd, bytes: size + size % 2, path: path, chunk: id, stop: stop)
            }
        }
    }

    /// The largest fmt chunk read: WAVE_FORMAT_EXTENSIBLE's is 40 bytes; the size is checked
    /// before the chunk is allocated (a 36-byte file claiming 0xFFFFFFF0 bytes took 4.2 GB).
    static let maximumFormatChunk = 1024

    private static func parseFormat(fd: Int32, size: Int, path: String, stop: StopSignal?) throws -> AudioFormat {
        guard size >= 16 else {
            throw AudioInputError(.invalidHeader, source: path, "fmt chunk is \(size) bytes; it needs at least 16")
        }
        guard size <= maximumFormatChunk else {
            throw AudioInputError(.invalidHeader, source: path, "fmt chunk claims \(size) bytes; a fmt chunk is at most \(maximumFormatChunk)")
        }
        let padded = size + size % 2
        var body = [UInt8](repeating: 0, count: padded)
        let n = try body.withUnsafeMutableBytes { try readFully(fd, into: $0.baseAddress!, count: padded, name: path, stop: stop) }
        guard n >= size else {
            throw AudioInputError(.truncatedHeader, source: path, "truncated header: the file ends inside the fmt chunk (\(n) of \(size) bytes)")
        }
        var tag = le16(body, 0)
        let channels = Int(le16(body, 2))
        let rate = Int(le32(body, 4))
        let blockAlign = Int(le16(body, 12))
        let bits = Int(le16(body, 14))
        if tag == formatExtensible {
            // cbSize (2) at 16, then validBitsPerSample (2), channelMask (4), SubFormat GUID (16)
            // whose first two bytes are the actual format tag.
            guard size >= 40 else {
                throw AudioInputError(.invalidHeader, source: path, "WAVE_FORMAT_EXTENSIBLE fmt chunk is \(size) bytes; it needs 40")
            }
            tag = le16(body, 24)
        }
        guard AudioFormat.channelCounts.contains(channels) else {
            throw AudioInputError(.invalidHeader, source: path, "fmt chunk declares \(channels) channels; supported are \(AudioFormat.channelCounts.lowerBound)…\(AudioFormat.channelCounts.upperBound)")
        }
        guard AudioFormat.rates.contains(rate) else {
            throw AudioInputError(.invalidHeader, source: path, "fmt chunk declares a sample rate of \(rate) Hz; supported are \(AudioFormat.rates.lowerBound)…\(AudioFormat.rates.upperBound) Hz")
        }
        let sampleFormat: SampleFormat
        switch (tag, bits) {
        case (formatPCM, 16): sampleFormat = .s16LE
        case (formatPCM, 24): sampleFormat = .s24_3LE
        // A 24-in-32 extensible stream is left-justified, so it reads correctly as S32.
        case (formatPCM, 32): sampleFormat = .s32LE
        case (formatFloat, 32): sampleFormat = .float32LE
        case (formatPCM, _), (formatFloat, _):
            throw AudioInputError(.unsupportedFormat, source: path,
                                  "unsupported \(tag == formatPCM ? "PCM" : "float") sample size \(bits) bits; supported: 16, 24 or 32-bit PCM, 32-bit float")
        default:
            throw AudioInputError(.unsupportedFormat, source: path,
                                  "unsupported format tag \(hex(tag))\(tagName(tag)); supported: PCM (1), IEEE float (3), extensible (0xFFFE) of those")
        }
        let format = AudioFormat(sampleFormat: sampleFormat, sampleRate: rate, channels: channels)
        guard blockAlign == format.bytesPerFrame else {
            throw AudioInputError(.invalidHeader, source: path,
                                  "block align \(blockAlign) does not match \(channels) channel(s) of \(sampleFormat) (\(format.bytesPerFrame) bytes)")
        }
        return format
    }

    private static func skip(fd: Int32, bytes: Int, path: String, chunk: String, stop: StopSignal?) throws {
        var scratch = [UInt8](repeating: 0, count: min(bytes, 65536))
        var left = bytes
        while left > 0 {
            let want = min(left, scratch.count)
            let n = try scratch.withUnsafeMutableBytes { try readFully(fd, into: $0.baseAddress!, count: want, name: path, stop: stop) }
            guard n == want else {
                throw AudioInputError(.missingDataChunk, source: path,
                                      "no data chunk: the file ends inside a '\(chunk)' chunk")
            }
            left -= n
        }
    }

    private static func le16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    private static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(le16(bytes, offset)) | UInt32(le16(bytes, offset + 2)) << 16
    }

    private static func hex(_ tag: UInt16) -> String {
        String(format: "0x%04X", tag)
    }

    private static func tagName(_ tag: UInt16) -> String {
        switch tag {
        case 0x0002: " (MS ADPCM)"
        case 0x0006: " (A-law)"
        case 0x0007: " (mu-law)"
        case 0x0011: " (IMA ADPCM)"
        case 0x0050: " (MPEG)"
        case 0x0055: " (MPEG Layer 3)"
        default: ""
        }
    }

    /// The first four bytes (a file type's magic) for the "not a WAV" message: text when
    /// printable, else hex. No more: a file given by mistake must not be echoed into a log.
    private static func describe(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) {
            return "\"\(String(decoding: bytes, as: UTF8.self))\""
        }
        return bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}
