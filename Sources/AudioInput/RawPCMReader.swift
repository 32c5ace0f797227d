import Foundation
import Logging

/// Raw interleaved PCM from a file descriptor, with the format given by the caller:
/// `arecord -f S16_LE -r 48000 -c 2 -t raw | mast-tagger run --input stdin`, or
/// `ffmpeg -i x.mp3 -f s16le -ac 1 -ar 16000 - | …`.
///
/// Each `readFrames` is one read(2) (so a live pipe's audio is handed on as soon as it
/// arrives), retried on EINTR; a read that ends inside a frame keeps the partial frame's bytes
/// and completes it on the next read. At end of input a trailing partial frame is dropped
/// with a warning (`trailingBytes` tells how many bytes).
public final class RawPCMReader {
    public let name: String
    public let format: AudioFormat
    public private(set) var framesRead = 0
    /// Bytes of an incomplete last frame discarded at end of input.
    public private(set) var trailingBytes = 0

    private let fd: Int32
    private let closesDescriptor: Bool
    private let logger: Logger
    /// [bytesPerFrame] bytes of a frame split across reads; `carryCount` of them are valid.
    private var carry: [UInt8]
    private var carryCount = 0
    private var ended = false

    /// Reads `fileDescriptor` (not closed by the reader unless `closeWhenDone`). `name` appears
    /// in messages (`stdin`, a path).
    public init(fileDescriptor: Int32, format: AudioFormat, name: String, closeWhenDone: Bool = false, logger: Logger) throws {
        try format.check(source: name)
        self.name = name
        self.format = format
        fd = fileDescriptor
        closesDescriptor = closeWhenDone
        self.logger = logger
        carry = [UInt8](repeating: 0, count: format.bytesPerFrame)
    }

    /// Any FileHandle (a Process's standard output pipe, for example); the handle keeps ownership.
    public convenience init(fileHandle: FileHandle, format: AudioFormat, name: String, logger: Logger) throws {
        try self.init(fileDescriptor: fileHandle.fileDescriptor, format: format, name: name, logger: logger)
    }

    deinit {
        if closesDescriptor { close(fd) }
    }

    /// The descriptor read from, for polling before a read.
    public var fileDescriptor: Int32 { fd }

    /// Reads whole frames into `buffer` (room for `maxFrames * format.bytesPerFrame` bytes).
    /// Blocks until at least one whole frame or end of input arrives; returns 0 only at end of input.
    public func readFrames(into buffer: UnsafeMutableRawPointer, maxFrames: Int) throws -> Int {
        guard !ended, maxFrames > 0 else { return 0 }
        let frameBytes = format.bytesPerFrame
        let capacity = maxFrames * frameBytes
        carry.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: carryCount) }
        var filled = carryCount
        while filled < frameBytes {
            let n = read(fd, buffer + filled, capacity - filled)
            if n > 0 {
                filled += n
            } else if n == 0 {
                ended = true
                if filled > 0 {
                    trailingBytes = filled
                    logger.warning("\(name): input ends inside a frame: \(filled) trailing byte(s) of a \(frameBytes)-byte \(format) frame dropped")
                }
                carryCount = 0
                return 0
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                var fds = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&fds, 1, -1)
            } else if errno != EINTR {
                throw AudioInputError(.io, source: name, "read failed: \(String(cString: strerror(errno)))")
            }
        }
        let frames = filled / frameBytes
        carryCount = filled - frames * frameBytes
        carry.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: buffer + frames * frameBytes, byteCount: carryCount) }
        framesRead += frames
        return frames
    }
}
