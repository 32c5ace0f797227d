import CAllocationCounter
import MAST
import XCTest

/// A forward pass allocates nothing: every buffer is made when the model is loaded, so tagging
/// costs no heap traffic per window (and cannot fail for memory once running).
final class AllocationTests: XCTestCase {
    func testClassifyAllocatesNothing() throws {
        let precisions: [MatrixPrecision] = Engine.int8Supported ? [.float32, .int8] : [.float32]
        for name in ["tiny-mast", "tiny-ast"] {
          for precision in precisions {
            let model = try Model(path: Fixtures.path(name), options: EngineOptions(precision: precision))
            let features = [Float](repeating: 0.1, count: model.config.frames * model.config.melBins)
            var logits = [Float](repeating: 0, count: model.config.numClasses)
            features.withUnsafeBufferPointer { input in
                logits.withUnsafeMutableBufferPointer { output in
                    model.classify(features: input, logits: output)  // warm-up: lazily made runtime metadata
                    mast_allocation_count_start()
                    for _ in 0 ..< 3 { model.classify(features: input, logits: output) }
                    let allocations = mast_allocation_count_stop()
                    XCTAssertEqual(allocations, 0, "\(name) \(precision): \(allocations) heap allocations in 3 forward passes")
                }
            }
          }
        }
    }
}
