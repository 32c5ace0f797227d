import Foundation
@testable import MAST
@testable import ModelFile
import XCTest

final class ArchitectureTests: XCTestCase {
    /// The Swift presets and training/mast_tagger/architectures.json describe the same networks.
    func testPresetsMatchThePythonTable() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("training/mast_tagger/architectures.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let table = try decoder.decode([String: ArchitectureConfig].self, from: Data(contentsOf: url))
        XCTAssertEqual(Set(table.keys), Set(ArchitectureConfig.presets.keys))
        for (name, config) in table { XCTAssertEqual(ArchitectureConfig.presets[name], config, name) }
    }

    func testEveryPresetIsValid() throws {
        for (_, config) in ArchitectureConfig.presets { XCTAssertNoThrow(try config.validate(), config.name) }
    }

    /// The budget: mast-b has 0.55–0.61× AST's parameters and at most 0.20× its MACs.
    func testMASTBIsThePapersScaleAgainstAST() {
        let ast = ModelCost(config: .ast), mast = ModelCost(config: .mastB)
        XCTAssertEqual(ast.parts.first { $0.name == "patch_embed" }?.grid, Grid(f: 12, t: 101))  // 1,212 patches
        XCTAssertEqual(Double(ast.parameters), 86.6e6, accuracy: 0.1e6)
        let parameterRatio = Double(mast.parameters) / Double(ast.parameters)
        let macRatio = Double(mast.macs) / Double(ast.macs)
        XCTAssert((0.55 ... 0.61).contains(parameterRatio), "parameter ratio \(parameterRatio)")
        XCTAssertLessThanOrEqual(macRatio, 0.20)
    }

    func testStreamingPresetsFitTheEdgeBudget() {
        for config in [ArchitectureConfig.mastT, .mastS] {
            XCTAssertLessThanOrEqual(ModelCost(config: config).macs, 150_000_000, config.name)
            XCTAssert((100 ... 200).contains(config.frames), "\(config.name) window is 1–2 s")
        }
    }

    /// Parameter counting agrees with the tensors a real file holds and the loader takes.
    func testParameterCountMatchesTheFixtureFiles() throws {
        for name in ["tiny-mast", "tiny-ast"] {
            let file = try SafeTensorsFile(path: Fixtures.path(name))
            let inFile = file.entries.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
            let model = try Model(path: Fixtures.path(name))
            XCTAssertEqual(ModelCost(config: model.config).parameters, inFile, name)
        }
    }

    /// One pooling stage along time only keeps the frequency rows; a 2-D stage halves both.
    func testPlansPoolTimeAloneOrBothAxes() {
        let plans = BlockPlan.plans(for: .mastB)
        let firsts = Dictionary(grouping: plans, by: \.stage).mapValues { $0[0] }
        XCTAssertEqual(firsts[0]!.gridIn, Grid(f: 32, t: 128))
        XCTAssertEqual(firsts[1]!.gridQ, Grid(f: 16, t: 64))
        XCTAssertEqual(firsts[2]!.gridQ, Grid(f: 16, t: 32))   // 1-D: time only
        XCTAssertEqual(firsts[3]!.gridQ, Grid(f: 8, t: 16))
        XCTAssertEqual(plans.count, 24)
        XCTAssertEqual(plans.last!.kvStride, [1, 1])
    }

    /// Distances are rescaled when q and k grids differ (MViTv2), matching the reference's table.
    func testRelativePositionIndexMatchesReference() {
        // q grid 4, k grid 2 (k ratio 2): index = q - 2k + 2.
        XCTAssertEqual((0 ..< 4).map { PoolingAttention.tableIndex(query: $0, key: 0, queries: 4, keys: 2) }, [2, 3, 4, 5])
        XCTAssertEqual((0 ..< 4).map { PoolingAttention.tableIndex(query: $0, key: 1, queries: 4, keys: 2) }, [0, 1, 2, 3])
        // Equal grids: q - k + (k - 1).
        XCTAssertEqual(PoolingAttention.tableIndex(query: 0, key: 6, queries: 7, keys: 7), 0)
        XCTAssertEqual(PoolingAttention.tableIndex(query: 6, key: 0, queries: 7, keys: 7), 12)
    }
}
