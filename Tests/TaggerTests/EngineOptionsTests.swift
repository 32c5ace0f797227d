import Foundation
import MAST
import XCTest

/// Threads, precision and kernel belong to a loaded model, not to the process: two models with
/// different options run at the same time in one process, each as it would alone. (With a
/// process-wide thread count, a reload from 1 to 2 threads under a running model was a SIGSEGV.)
final class EngineOptionsTests: XCTestCase {
    func testTwoModelsWithDifferentOptionsRunSideBySide() throws {
        let second = EngineOptions(threads: 3, precision: Engine.int8Supported ? .int8 : .float32)
        let models = [try ShippedFiles.model(options: EngineOptions(threads: 1)), try ShippedFiles.model(options: second)]
        XCTAssertEqual(models.map(\.options.threads), [1, 3])
        let config = models[0].config
        var generator = SplitMix64(seed: 7)
        let features = (0 ..< config.frames * config.melBins).map { _ in generator.nextUniform() }
        let alone = models.map { $0.classify(features: features) }

        // Both models classify the same window 10 times at once, on two threads.
        let results = LockedResults()
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            for _ in 0 ..< 10 { results.append(which, models[which].classify(features: features)) }
        }
        for which in 0 ..< 2 {
            let logits = results.of(which)
            XCTAssertEqual(logits.count, 10)
            // Splitting rows over workers does not change any row's arithmetic: equal bit for bit.
            XCTAssertTrue(logits.allSatisfy { $0 == alone[which] }, "model \(which) computed differently beside the other")
        }
    }
}

private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var logits: [Int: [[Float]]] = [:]

    func append(_ which: Int, _ values: [Float]) { lock.withLock { logits[which, default: []].append(values) } }
    func of(_ which: Int) -> [[Float]] { lock.withLock { logits[which] ?? [] } }
}
