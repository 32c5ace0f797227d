import Foundation
import XCTest

final class InfoCommandTests: XCTestCase {
    /// With no flags, `info` describes the model `run` and `tag` would load, and says which
    /// arithmetic this CPU gets.
    func testDescribesTheInstalledModelByDefault() throws {
        let info = try Daemon(["info", "--json"])
        XCTAssertEqual(info.exitStatus(within: 15), 0, info.stderr)
        let object = try XCTUnwrap(info.records().first, info.stdout)
        XCTAssertEqual(object["arch"] as? String, "mast-t")
        XCTAssertEqual(object["classes"] as? Int, 521)
        XCTAssertEqual((object["model"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent }, "mast-tagger.safetensors")
        let engine = try XCTUnwrap(object["engine_auto"] as? String)
        XCTAssert(engine == "float32" || engine.hasPrefix("int8 ("), engine)
    }
}
