import Foundation
import Logging

/// Keeps a clip directory within `clips.max_megabytes` and `clips.max_age_days`: deletes clips
/// older than the age, then the oldest while the rest take more than the size. Only files
/// named as clips are touched (`20261130T071256.123Z-LABEL.wav` or `.flac`): anything else the directory
/// holds is the user's.
struct ClipRetention {
    let directory: URL
    let maxBytes: Int64
    /// Seconds.
    let maxAge: Double
    let logger: Logger

    /// `20261130T071256.123Z-Dog_bark`: the UTC time of the event's start (sorts by time) and
    /// its label with anything but letters, digits, '.', '-' and '_' made '_' (at most 64 characters).
    static func fileName(time: Date, label: String) -> String {
        let safe = String(label.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0" ... "9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        }.prefix(64))
        let milliseconds = Int((time.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000), parts = tm()
        gmtime_r(&seconds, &parts)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                           parts.tm_hour, parts.tm_min, parts.tm_sec, milliseconds % 1000)
        return "\(stamp)-\(safe.isEmpty || safe.hasPrefix(".") ? "_" + safe : safe)"
    }

    static func isClip(_ name: String) -> Bool {
        name.range(of: #"^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-.+\.(wav|flac)$"#, options: .regularExpression) != nil
    }

    /// Deletes what is past either limit; returns how many clips it deleted.
    @discardableResult
    func apply(now: Date = Date()) -> Int {
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var clips: [(url: URL, size: Int64, modified: Date)] = []
        for name in names.sorted() where Self.isClip(name) {
            let url = directory.appendingPathComponent(name)
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else { continue }
            clips.append((url, Int64(values.fileSize ?? 0), values.contentModificationDate ?? now))
        }
        var total = clips.reduce(0) { $0 + $1.size }, deleted = 0
        // Oldest first (the names sort by time).
        for clip in clips where clip.modified < now.addingTimeInterval(-maxAge) || total > maxBytes {
            do {
                try FileManager.default.removeItem(at: clip.url)
                total -= clip.size
                deleted += 1
            } catch {
                logger.error("old clip not deleted: \(clip.url.path): \(ClipRecorder.reason(error))")
            }
        }
        if deleted > 0 { logger.info("deleted \(deleted) old clips (clips.max_megabytes, clips.max_age_days)") }
        return deleted
    }
}
