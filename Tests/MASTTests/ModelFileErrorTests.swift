import Foundation
import MAST
import XCTest

/// Every way a model file can be wrong is a clear error naming the file and the key or field.
final class ModelFileErrorTests: XCTestCase {
    let original = Fixtures.path("tiny-mast")

    func loadError(_ path: String) -> ModelFileError? {
        do {
            _ = try Model(path: path)
            return nil
        } catch let error as ModelFileError {
            return error
        } catch {
            XCTFail("unexpected error type: \(error)")
            return nil
        }
    }

    func edited(_ name: String, _ edit: (inout EditableSafeTensors) throws -> Void) throws -> String {
        var file = try EditableSafeTensors(path: original)
        try edit(&file)
        return try file.write(name)
    }

    func testUnchangedRoundTripLoads() throws {
        XCTAssertNoThrow(try Model(path: try edited("same") { _ in }))
    }

    func testMissingTensorNamesKeyAndShape() throws {
        let path = try edited("missing") { $0.tensors["blocks.2.attn.rel_pos_t"] = nil }
        let error = loadError(path)
        XCTAssertEqual(error, .missingTensor(path: path, key: "blocks.2.attn.rel_pos_t", expectedShape: [49, 16]))
        XCTAssert(error!.description.contains("blocks.2.attn.rel_pos_t") && error!.description.contains("[49, 16]"), error!.description)
    }

    func testExtraTensorIsRejected() throws {
        let path = try edited("extra") {
            $0.tensors["blocks.0.attn.extra"] = .init(dtype: "F32", shape: [2], data: Data(count: 8))
        }
        XCTAssertEqual(loadError(path), .unexpectedTensors(path: path, keys: ["blocks.0.attn.extra"]))
    }

    func testMisShapedTensorNamesBothShapes() throws {
        let path = try edited("misshaped") { $0.tensors["head.weight"]!.shape = [64, 10] }
        let error = loadError(path)
        XCTAssertEqual(error, .shapeMismatch(path: path, key: "head.weight", expected: [10, 64], actual: [64, 10]))
        XCTAssert(error!.description.contains("expected [10, 64]"), error!.description)
    }

    func testTruncatedFileNamesATensor() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: original))
        let path = try EditableSafeTensors.writeTemporary(bytes.prefix(bytes.count - 1000), name: "truncated")
        guard case .corruptTensor(_, let key, let reason)? = loadError(path) else { return XCTFail("expected corruptTensor") }
        XCTAssertFalse(key.isEmpty)
        XCTAssert(reason.contains("truncated"), reason)
    }

    func testFileShorterThanItsHeader() throws {
        let path = try EditableSafeTensors.writeTemporary(Data([1, 2, 3]), name: "tiny")
        guard case .corrupt? = loadError(path) else { return XCTFail("expected corrupt") }
        let hugeHeader = try EditableSafeTensors.writeTemporary(Data([0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0x7B]), name: "huge-header")
        guard case .corrupt? = loadError(hugeHeader) else { return XCTFail("expected corrupt") }
    }

    func testHeaderThatIsNotJSON() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: original))
        bytes[8] = UInt8(ascii: "#")
        let path = try EditableSafeTensors.writeTemporary(bytes, name: "not-json")
        XCTAssertEqual(loadError(path), .corrupt(path: path, reason: "header is not a JSON object"))
    }

    func testByteCountThatDisagreesWithShape() throws {
        let path = try edited("short-tensor") { $0.tensors["norm.bias"]!.data.removeLast(4) }
        guard case .corruptTensor(_, "norm.bias", let reason)? = loadError(path) else { return XCTFail("expected corruptTensor") }
        XCTAssert(reason.contains("needs 256"), reason)
    }

    func testNonFiniteWeightsNameTheTensor() throws {
        let path = try edited("nan") {
            var nan = Float.nan
            $0.tensors["blocks.1.mlp.fc1.weight"]!.data.replaceSubrange(0 ..< 4, with: Data(bytes: &nan, count: 4))
        }
        XCTAssertEqual(loadError(path), .nonFinite(path: path, key: "blocks.1.mlp.fc1.weight"))
    }

    func testUnsupportedDType() throws {
        let path = try edited("int8") { $0.tensors["norm.bias"] = .init(dtype: "I8", shape: [64], data: Data(count: 64)) }
        XCTAssertEqual(loadError(path), .unsupportedDType(path: path, key: "norm.bias", dtype: "I8"))
    }

    func testMetadataProblemsNameTheField() throws {
        let noFormat = try edited("no-format") { $0.metadata["format"] = nil }
        guard case .badMetadata(_, "format", _)? = loadError(noFormat) else { return XCTFail("expected format error") }

        let badArchitecture = try edited("bad-arch") {
            $0.metadata["architecture"] = $0.metadata["architecture"]!.replacingOccurrences(of: "\"mel_bins\"", with: "\"mel_bands\"")
        }
        let error = loadError(badArchitecture)
        guard case .badMetadata(_, "architecture", let reason)? = error else { return XCTFail("expected architecture error") }
        XCTAssert(reason.contains("melBins") || reason.contains("mel_bins"), reason)

        let wrongClassCount = try edited("classes") { $0.metadata["classes"] = "[{\"name\": \"Speech\", \"id\": \"/m/09x0r\"}]" }
        guard case .badMetadata(_, "classes", let why)? = loadError(wrongClassCount) else { return XCTFail("expected classes error") }
        XCTAssert(why.contains("1 classes for 10 logits"), why)

        let invalidStage = try edited("heads") {
            $0.metadata["architecture"] = $0.metadata["architecture"]!.replacingOccurrences(of: "\"heads\": 4", with: "\"heads\": 5")
        }
        guard case .badMetadata(_, "architecture", let stageReason)? = loadError(invalidStage) else { return XCTFail("expected stage error") }
        XCTAssert(stageReason.contains("stages[3].dim"), stageReason)
    }

    /// Sizes from a model file are checked with overflow-safe arithmetic (this module is built
    /// -Ounchecked): `depth: 2^40` took 11 GB before a SIGABRT; a [2^40, 2^40] tensor wrapped to
    /// "needs 0" bytes.
    func testHugeArchitectureAndShapesAreRefusedWithoutAllocating() throws {
        let deep = try edited("deep") {
            $0.metadata["architecture"] = $0.metadata["architecture"]!.replacingOccurrences(
                of: #""depth": \d+"#, with: "\"depth\": 1099511627776", options: .regularExpression)
        }
        guard case .badMetadata(_, "architecture", let reason)? = loadError(deep) else { return XCTFail("expected architecture error") }
        XCTAssert(reason.contains("depth: must be within 1…256, got 1099511627776"), reason)

        let huge = try edited("huge-shape") { $0.tensors["norm.bias"]!.shape = [1 << 40, 1 << 40] }
        guard case .corruptTensor(_, "norm.bias", let why)? = loadError(huge) else { return XCTFail("expected corruptTensor") }
        XCTAssert(why.contains("larger than any file can hold"), why)
    }

    func testMissingFileIsReported() {
        XCTAssertEqual(loadError("/nonexistent/model.safetensors"),
                       .cannotOpen(path: "/nonexistent/model.safetensors", reason: "No such file or directory"))
    }
}
