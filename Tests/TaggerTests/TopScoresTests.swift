@testable import Tagger
import XCTest

/// topIndices against a stable sort by score, the definition it replaces.
final class TopScoresTests: XCTestCase {
    func sortedTop(_ scores: [Float], _ count: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(count))
    }

    func testTheHighestScoresComeFirstAsASortWouldGiveThem() {
        var generator = SystemRandomNumberGenerator()
        for trial in 0 ..< 200 {
            let size = Int.random(in: 0 ... 600, using: &generator)
            // Coarse values so that ties are common (every tie must keep index order).
            let scores = (0 ..< size).map { _ in Float(Int.random(in: 0 ... 20, using: &generator)) / 20 }
            for count in [0, 1, 3, 5, size, size + 2] {
                XCTAssertEqual(topIndices(of: scores, count: count), sortedTop(scores, count), "trial \(trial), \(size) scores, top \(count)")
            }
        }
    }

    func testTiesKeepIndexOrderAndACountBeyondTheScoresGivesThemAll() {
        XCTAssertEqual(topIndices(of: [0.5, 0.9, 0.5, 0.9, 0.1], count: 3), [1, 3, 0])
        XCTAssertEqual(topIndices(of: [0.2, 0.7], count: 5), [1, 0])
        XCTAssertEqual(topIndices(of: [], count: 3), [])
    }
}
