import Foundation
import MAST
import XCTest

/// The committed parity fixtures (made by training/make_fixtures.py).
enum Fixtures {
    static func path(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")!.path
    }

    /// Asserts `actual` equals `expected` to within `tolerance` relative to the reference's
    /// largest magnitude, and returns that relative difference.
    @discardableResult
    static func assertClose(_ actual: UnsafeBufferPointer<Float>, _ expected: [Float], tolerance: Float,
                            _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Float {
        XCTAssertEqual(actual.count, expected.count, "\(what): element count", file: file, line: line)
        guard actual.count == expected.count else { return .infinity }
        var maxDiff: Float = 0, scale: Float = 0
        for i in 0 ..< expected.count {
            maxDiff = max(maxDiff, abs(actual[i] - expected[i]))
            scale = max(scale, abs(expected[i]))
        }
        let relative = maxDiff / max(scale, .leastNormalMagnitude)
        XCTAssertLessThanOrEqual(relative, tolerance, "\(what): max |diff| \(maxDiff) against max |ref| \(scale)", file: file, line: line)
        return relative
    }
}
