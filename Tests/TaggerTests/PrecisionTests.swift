import Foundation
import MAST
@testable import Tagger
import XCTest

/// The shipped model run in int8 against float32 on the bundled example recording: the int8
/// engine may move scores by quantization noise, never change what the tagger says.
final class PrecisionTests: XCTestCase {
    func probabilities(precision: MatrixPrecision, kernel: Int8Kernel? = nil, samples: [Float]) throws -> [[Float]] {
        let model = try ShippedFiles.model(options: EngineOptions(precision: precision, int8Kernel: kernel))
        let lock = NSLock()
        var windows: [[Float]] = []
        var settings = StreamTagger.Settings(hopFrames: 50)
        settings.backpressure = .wait
        let tagger = try StreamTagger(model: model, settings: settings,
                                      observe: { result in lock.withLock { windows.append(result.probabilities) } },
                                      emit: { _ in })
        tagger.start()
        samples.withUnsafeBufferPointer { tagger.push($0) }
        tagger.finish()
        return windows
    }

    /// Every int8 kernel this CPU runs (the AVX2 one has 7-bit weights).
    func testInt8KeepsEveryWindowsTopClassAndScoresWithinTwoHundredths() throws {
        let kernels = Int8Kernel.allCases.filter(\.isAvailable)
        try XCTSkipIf(kernels.isEmpty, "this CPU runs no int8 kernel (needs AVX2)")
        let samples = try ShippedFiles.exampleSamples()
        let reference = try probabilities(precision: .float32, samples: samples)
        XCTAssertGreaterThan(reference.count, 10)
        func top(_ scores: [Float]) -> Int { scores.indices.max { scores[$0] < scores[$1] }! }
        for kernel in kernels {
            let quantized = try probabilities(precision: .int8, kernel: kernel, samples: samples)
            XCTAssertEqual(reference.count, quantized.count)
            for (index, (f32, int8)) in zip(reference, quantized).enumerated() {
                XCTAssertEqual(top(int8), top(f32), "\(kernel) window \(index): top class")
                let worst = zip(f32, int8).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 0.02, "\(kernel) window \(index): largest score change")
            }
        }
    }
}
