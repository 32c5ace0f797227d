import MAST
import XCTest

/// The Swift engine against the PyTorch reference (training/mast_tagger/model.py) on committed
/// random-weight models and a 128 mel × 200 frame input: every tap to within 1e-4 relative.
final class ParityTests: XCTestCase {
    func checkParity(model modelName: String, io ioName: String, logitsKey: String = "logits",
                     expectedTaps: Set<String>, tolerance: Float = 1e-4) throws {
        let model = try Model(path: Fixtures.path(modelName))
        let io = try SafeTensorsFile(path: Fixtures.path(ioName))
        let features = try io.tensor("features")
        XCTAssertEqual(features.shape, [model.config.frames, model.config.melBins])

        var seen: Set<String> = []
        var logits = [Float](repeating: .nan, count: model.config.numClasses)
        let input = features.floats()
        try input.withUnsafeBufferPointer { input in
            try logits.withUnsafeMutableBufferPointer { logits in
                var failure: Error?
                model.classify(features: input, logits: logits) { name, values, shape in
                    seen.insert(name)
                    let key = name == "logits" ? logitsKey : name
                    do {
                        let reference = try io.tensor(key)
                        XCTAssertEqual(shape, reference.shape, "\(modelName) \(name): shape")
                        Fixtures.assertClose(values, reference.floats(), tolerance: tolerance, "\(modelName) \(name)")
                    } catch { failure = error }
                }
                if let failure { throw failure }
            }
        }
        XCTAssertEqual(seen, expectedTaps, "\(modelName): taps reported")
        XCTAssert(logits.allSatisfy(\.isFinite))
    }

    func testMASTMatchesReferenceAtEveryStage() throws {
        try checkParity(model: "tiny-mast", io: "tiny-mast-io",
                        expectedTaps: ["patch_embed", "stage1", "stage2", "stage3", "stage4", "embedding", "logits"])
    }

    func testF16ModelMatchesReferenceOnTheSameF16Weights() throws {
        try checkParity(model: "tiny-mast-f16", io: "tiny-mast-io", logitsKey: "logits_f16",
                        expectedTaps: ["patch_embed", "stage1", "stage2", "stage3", "stage4", "embedding", "logits"],
                        tolerance: 2e-2)  // intermediate taps are the F32 reference's: F16 rounding is the gap
        // The logits themselves must match the F16 reference as tightly as F32 does.
        let model = try Model(path: Fixtures.path("tiny-mast-f16"))
        let io = try SafeTensorsFile(path: Fixtures.path("tiny-mast-io"))
        let logits = model.classify(features: try io.tensor("features").floats())
        logits.withUnsafeBufferPointer { Fixtures.assertClose($0, try! io.tensor("logits_f16").floats(), tolerance: 1e-4, "f16 logits") }
    }

    func testASTMatchesReferenceAtEveryQuarter() throws {
        try checkParity(model: "tiny-ast", io: "tiny-ast-io",
                        expectedTaps: ["patch_embed", "block1", "block2", "embedding", "logits"])
    }

    func testForwardIsRepeatable() throws {
        // Scratch buffers are reused between windows: a second pass must not see the first.
        let model = try Model(path: Fixtures.path("tiny-mast"))
        let io = try SafeTensorsFile(path: Fixtures.path("tiny-mast-io"))
        let features = try io.tensor("features").floats()
        let first = model.classify(features: features)
        _ = model.classify(features: features.map { -$0 })
        XCTAssertEqual(model.classify(features: features), first)
    }
}
