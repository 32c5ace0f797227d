import AudioInput
import Foundation
import Logging
import MAST
@testable import Tagger
import XCTest

/// The shipped model run in int8 against float32 on the bundled example recording: the int8
/// engine may move scores by quantization noise, never change what the tagger says.
final class PrecisionTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    func probabilities(precision: MatrixPrecision, samples: [Float]) throws -> [[Float]] {
        Engine.setPrecision(precision)
        defer { Engine.setPrecision(.float32) }
        let model = try Model(path: Self.repository.appendingPathComponent("models/mast-tagger.safetensors").path)
        let lock = NSLock()
        var windows: [[Float]] = []
        var settings = StreamTagger.Settings(hopFrames: 50)
        settings.backpressure = .block
        let tagger = try StreamTagger(model: model, settings: settings,
                                      observe: { result in lock.withLock { windows.append(result.probabilities) } },
                                      emit: { _ in })
        samples.withUnsafeBufferPointer { tagger.push($0) }
        tagger.finish()
        return windows
    }

    func testInt8KeepsEveryWindowsTopClassesAndScoresWithinTwoHundredths() throws {
        try XCTSkipUnless(Engine.int8Supported, "this CPU has no AVX-VNNI; the int8 kernel cannot run")
        let path = Self.repository.appendingPathComponent("examples/scene.wav").path
        let samples = try WAVReader(path: path, logger: Logger(label: "test")).readAllMono()
        let reference = try probabilities(precision: .float32, samples: samples)
        let quantized = try probabilities(precision: .int8, samples: samples)
        XCTAssertGreaterThan(reference.count, 20)
        XCTAssertEqual(reference.count, quantized.count)
        func top(_ scores: [Float], _ count: Int) -> [Int] {
            Array(scores.indices.sorted { scores[$0] > scores[$1] }.prefix(count))
        }
        for (index, (f32, int8)) in zip(reference, quantized).enumerated() {
            XCTAssertEqual(top(int8, 1), top(f32, 1), "window \(index): top class")
            let worst = zip(f32, int8).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 0.02, "window \(index): largest score change")
        }
    }
}
