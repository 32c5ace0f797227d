import Foundation
import Logging
import XCTest

@testable import AudioInput

/// A LogHandler that keeps every message, so tests can check what was reported without
/// bootstrapping the logging system.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String)] = []

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    var messages: [(level: Logger.Level, message: String)] { lock.withLock { entries } }

    func contains(_ level: Logger.Level, _ fragments: String...) -> Bool {
        messages.contains { $0.level == level && fragments.allSatisfy($0.message.contains) }
    }

    fileprivate func append(_ level: Logger.Level, _ message: String) {
        lock.withLock { entries.append((level, message)) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append(event.level, event.message.description)
        }
    }
}

/// A fresh directory under the system temporary directory, removed by the test's teardown.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("audioinput-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Deterministic pseudo-random Int16 samples (a 64-bit LCG), covering the full range.
func pseudoRandomInt16(count: Int, seed: UInt64) -> [Int16] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int16(truncatingIfNeeded: state >> 33)
    }
}

/// Little-endian bytes of integer samples.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
    for value in values {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    return bytes
}

func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    littleEndianBytes(values.map(\.bitPattern))
}

/// Waits (polling every 5 ms) until `condition` holds or `seconds` pass; returns whether it held.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5000)
    }
    return condition()
}

/// Reads everything the ring holds until it is drained (or `seconds` pass), checking the chunks are
/// contiguous in the stream from position 0.
func drain(_ ring: RingBuffer, seconds: Double = 10) -> [Float] {
    var samples: [Float] = []
    let deadline = Date().addingTimeInterval(seconds)
    while !ring.isDrained, Date() < deadline {
        if let (chunk, position) = ring.read(maxCount: 8192) {
            XCTAssertEqual(position, UInt64(samples.count), "gap in the stream")
            samples += chunk
        } else {
            _ = ring.waitForData(timeout: 0.05)
        }
    }
    XCTAssertTrue(ring.isDrained, "ring not finished within \(seconds) s")
    return samples
}
