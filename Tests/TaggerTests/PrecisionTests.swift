import Foundation
import MAST
@testable import Tagger
import XCTest

/// The shipped model run in int8 against float32 on the bundled example recording: the int8
/// engine may move scores by quantization noise, never change what the tagger says.
final class PrecisionTests: XCTestCase {
    struct Run {
        var probabilities: [[Float]] = []
        /// What the tagger says: each event's label and its start and end.
        var events: [String] = []
    }

    func run(precision: MatrixPrecision, kernel: Int8Kernel? = nil, samples: [Float]) throws -> Run {
        let model = try ShippedFiles.model(options: EngineOptions(precision: precision, int8Kernel: kernel))
        let lock = NSLock()
        var result = Run()
        var settings = StreamTagger.Settings(hopFrames: 50)
        settings.backpressure = .wait
        let tagger = try StreamTagger(model: model, settings: settings,
                                      observe: { window in lock.withLock { result.probabilities.append(window.probabilities) } },
                                      emit: { record in
                                          guard case .event(let e) = record else { return }
                                          lock.withLock { result.events.append("\(e.label) \(e.start)–\(e.end)") }
                                      })
        tagger.start()
        samples.withUnsafeBufferPointer { tagger.push($0) }
        tagger.finish()
        return lock.withLock { result }
    }

    /// The largest score change a kernel may make: quantization noise, whose step is twice as
    /// large for the AVX2 kernel's 7-bit weights as for the VNNI kernels' 8-bit ones.
    func tolerance(_ kernel: Int8Kernel) -> Float { kernel == .avx2 ? 0.04 : 0.02 }

    /// Every int8 kernel this CPU runs: the same events, scores within the kernel's tolerance,
    /// and the same top class in every window whose top two are further apart than two tolerances
    /// (closer ones may swap within the noise; a tie in a window mixing two sounds is one).
    func testInt8KeepsTheEventsTheTopClassesAndTheScoresWithinTheQuantizationNoise() throws {
        let kernels = Int8Kernel.allCases.filter(\.isAvailable)
        try XCTSkipIf(kernels.isEmpty, "this CPU runs no int8 kernel (needs AVX2)")
        let samples = try ShippedFiles.exampleSamples()
        let reference = try run(precision: .float32, samples: samples)
        XCTAssertGreaterThan(reference.probabilities.count, 10)
        XCTAssertGreaterThanOrEqual(reference.events.count, 5)
        func top(_ scores: [Float]) -> Int { scores.indices.max { scores[$0] < scores[$1] }! }
        for kernel in kernels {
            let quantized = try run(precision: .int8, kernel: kernel, samples: samples)
            XCTAssertEqual(quantized.events, reference.events, "\(kernel): events")
            XCTAssertEqual(reference.probabilities.count, quantized.probabilities.count)
            for (index, (f32, int8)) in zip(reference.probabilities, quantized.probabilities).enumerated() {
                let best = f32.sorted(by: >)
                if best[0] - best[1] > 2 * tolerance(kernel) {
                    XCTAssertEqual(top(int8), top(f32), "\(kernel) window \(index): top class")
                }
                let worst = zip(f32, int8).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, tolerance(kernel), "\(kernel) window \(index): largest score change")
            }
        }
    }
}
