import Foundation
import Logging

/// A swift-log handler writing one line per message to standard error, in the journal's format when
/// standard error is connected to the journal, in a human format otherwise.
///
/// Journal: `<6>label: message key=value`. The `<N>` prefix is the syslog priority that journald's
/// stream reader takes off the line (sd-daemon(3)); journald adds the time itself. Human:
/// `2026-01-01T12:00:00.000Z info label: message key=value`.
///
/// Each line goes out in one write(2), so lines from different threads never interleave.
public struct JournaldLogHandler: LogHandler {
    public enum Format: Sendable {
        case journal
        case human
    }

    public let label: String
    public let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let fileDescriptor: Int32

    /// - Parameter format: nil to detect it (`detectedFormat()`); `.journal` to force it.
    public init(label: String, format: Format? = nil, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
                fileDescriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.format = format ?? Self.detectedFormat(fileDescriptor: fileDescriptor)
        self.metadataProvider = metadataProvider
        self.fileDescriptor = fileDescriptor
    }

    /// `.journal` when systemd connected the descriptor to the journal: it then sets `JOURNAL_STREAM`
    /// to the device and inode numbers ("dev:ino") of that stream (systemd.exec(5)). Comparing them
    /// with the descriptor's own tells a service's stderr from one a user redirected elsewhere while
    /// the variable was inherited.
    public static func detectedFormat(environment: [String: String] = ProcessInfo.processInfo.environment,
                                      fileDescriptor: Int32 = STDERR_FILENO) -> Format {
        guard let stream = environment["JOURNAL_STREAM"] else { return .human }
        let parts = stream.split(separator: ":")
        var status = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
              fstat(fileDescriptor, &status) == 0 else { return .human }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode ? .journal : .human
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        let line = formatLine(level: event.level, message: "\(event.message)", metadata: merged, date: Date())
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        // A log line that cannot be written has nowhere else to go.
        _ = bytes.withUnsafeBytes { writeAll(fileDescriptor, $0) }
    }

    /// One log line without its newline. In journal format each line of a multi-line message gets
    /// the priority prefix, since journald makes each line a message of its own.
    public func formatLine(level: Logger.Level, message: String, metadata: Logger.Metadata, date: Date) -> String {
        let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }
        let text = ([message] + fields).joined(separator: " ")
        switch format {
        case .journal:
            let prefix = "<\(Self.priority(level))>\(label): "
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
        case .human:
            return "\(date.formatted(Self.timestamp)) \(level) \(label): \(text)"
        }
    }

    /// The syslog priority of a level (sd-daemon(3)): trace and debug 7, info 6, notice 5,
    /// warning 4, error 3, critical 2.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// A metadata value as is, or in double quotes (with `"` and `\` escaped) when it is empty or
    /// holds a space, a quote or an equals sign, so that the line still splits into key=value pairs.
    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "=" }) else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    private static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
