/// Every failure of an input, naming the file or device it concerns and what is wrong with it,
/// e.g. `/tmp/a.wav: unsupported format tag 0x0055 (MPEG Layer 3); supported: PCM (1), IEEE float (3), extensible (0xFFFE)`.
public struct AudioInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file has no bytes at all.
        case emptyFile
        /// The first bytes are not `RIFF....WAVE`.
        case notWAV
        /// The file ends inside the RIFF header or a `fmt ` chunk.
        case truncatedHeader
        /// A format tag, bit depth or container the readers do not decode.
        case unsupportedFormat
        /// The header is complete but inconsistent (zero channels, block align that does not match).
        case invalidHeader
        /// The chunks end without a `data` chunk.
        case missingDataChunk
        /// open/read/poll failed at the operating-system level.
        case io
        /// A caller-supplied setting is out of range (channel index, sample rate, capacity).
        case invalidArgument
        /// alsa-lib refused to open, configure or read the device.
        case device
        /// `start(into:)` on a source that is already running or has run.
        case alreadyStarted
    }

    public let kind: Kind
    /// The file path, `stdin`, or ALSA device name.
    public let source: String
    public let detail: String

    public init(_ kind: Kind, source: String, _ detail: String) {
        self.kind = kind
        self.source = source
        self.detail = detail
    }

    public var description: String { "\(source): \(detail)" }
}
