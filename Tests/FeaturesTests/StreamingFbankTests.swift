import XCTest

@testable import Features

/// SplitMix64: reproducible chunk sizes and signals without Foundation's unseeded generators.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class StreamingFbankTests: XCTestCase {
    /// Feeds `samples` in chunks of the given sizes (cycled) and collects the frames.
    func streamed(_ samples: [Float], options: FbankOptions, chunks: [Int]) throws -> [Float] {
        let fbank = try StreamingFbank(options: options)
        var frames: [Float] = []
        var start = 0, i = 0
        samples.withUnsafeBufferPointer { all in
            while start < all.count {
                let end = min(start + chunks[i % chunks.count], all.count)
                fbank.push(UnsafeBufferPointer(rebasing: all[start ..< end]), into: &frames)
                start = end
                i += 1
            }
        }
        return frames
    }

    func chunkings(count: Int, seed: UInt64) -> [String: [Int]] {
        var rng = SplitMix64(state: seed)
        return [
            "1": [1], "159": [159], "160": [160], "401": [401],
            "random 1...1000": (0 ..< count).map { _ in Int.random(in: 1 ... 1000, using: &rng) },
            "random 0...5 and 1600": (0 ..< count).map { _ in
                Bool.random(using: &rng) ? Int.random(in: 0 ... 5, using: &rng) : 1600
            },
        ]
    }

    /// Streaming must be the same computation as batch, so equality is exact, for every option
    /// set in the fixtures (including a shift longer than the frame).
    func testAnyChunkingEqualsBatchExactly() throws {
        for name in FbankFixture.names {
            let fixture = try FbankFixture(name)
            let batch = try StreamingFbank.compute(fixture.waveform, options: fixture.options)
            for (label, chunks) in chunkings(count: 200, seed: 7) {
                let streamed = try streamed(fixture.waveform, options: fixture.options, chunks: chunks)
                XCTAssertEqual(streamed, batch, "\(name), chunks \(label)")
            }
        }
    }

    /// Zero-length pushes, a push that ends exactly on a frame boundary, and a push of many
    /// frames at once each report how many frames they appended.
    func testPushReportsFramesAppended() throws {
        let fbank = try StreamingFbank()
        let samples = [Float](repeating: 0.25, count: 1000)
        var frames: [Float] = []
        samples.withUnsafeBufferPointer { all in
            XCTAssertEqual(fbank.push(UnsafeBufferPointer(rebasing: all[0 ..< 0]), into: &frames), 0)
            XCTAssertEqual(fbank.push(UnsafeBufferPointer(rebasing: all[0 ..< 399]), into: &frames), 0)
            XCTAssertEqual(fbank.push(UnsafeBufferPointer(rebasing: all[399 ..< 400]), into: &frames), 1)
            XCTAssertEqual(fbank.push(UnsafeBufferPointer(rebasing: all[400 ..< 1000]), into: &frames), 3)
        }
        XCTAssertEqual(frames.count, 4 * 128)
    }

    func testResetStartsAFreshStream() throws {
        var rng = SplitMix64(state: 3)
        let a = (0 ..< 1234).map { _ in Float.random(in: -0.5 ... 0.5, using: &rng) }
        let b = (0 ..< 2000).map { _ in Float.random(in: -0.5 ... 0.5, using: &rng) }
        let fbank = try StreamingFbank()
        var frames: [Float] = []
        a.withUnsafeBufferPointer { _ = fbank.push($0, into: &frames) }
        fbank.reset()
        frames.removeAll()
        b.withUnsafeBufferPointer { _ = fbank.push($0, into: &frames) }
        XCTAssertEqual(frames, try StreamingFbank.compute(b))
    }

    /// snip_edges: 1 + (N - 400) / 160 frames, none below one frame length.
    func testFrameCounts() throws {
        let options = FbankOptions()
        for (n, expected) in [(0, 0), (1, 0), (399, 0), (400, 1), (559, 1), (560, 2), (16000, 98)] {
            XCTAssertEqual(options.frameCount(sampleCount: n), expected, "N = \(n)")
            let frames = try StreamingFbank.compute([Float](repeating: 0.1, count: n), options: options)
            XCTAssertEqual(frames.count, expected * 128, "N = \(n)")
        }
    }

    /// Silence has zero energy everywhere: every value is log(FLT_EPSILON).
    func testSilenceIsFlooredAtEpsilon() throws {
        let frames = try StreamingFbank.compute([Float](repeating: 0, count: 800))
        XCTAssertEqual(frames.count, 3 * 128)
        XCTAssertTrue(frames.allSatisfy { $0 == log(Float.ulpOfOne) })
    }

    func testGeometry() throws {
        let ast = FbankOptions()
        XCTAssertEqual([ast.frameLength, ast.frameShift, ast.fftSize], [400, 160, 512])
        let odd = FbankOptions(sampleRate: 8000, frameLengthMs: 25, roundToPowerOfTwo: false)
        XCTAssertEqual([odd.frameLength, odd.frameShift, odd.fftSize], [200, 80, 200])
        XCTAssertEqual(try StreamingFbank(options: odd).numMelBins, 128)
    }

    /// The sparse bank has torchaudio's shape: with AST options 504 non-zero weights, filter 3
    /// alone is empty (at low frequencies the filters are narrower than the 31.25 Hz bin
    /// spacing), each run is a triangle (rises then falls), and the Nyquist bin is never used.
    func testMelFilterbankRuns() throws {
        let bank = MelFilterbank(options: FbankOptions())
        XCTAssertEqual(bank.spectrumLength, 257)
        XCTAssertEqual(bank.offsets.count, 129)
        XCTAssertEqual(bank.weights.count, 504)
        for b in 0 ..< bank.numBins {
            let run = Array(bank.weights[bank.offsets[b] ..< bank.offsets[b + 1]])
            XCTAssertEqual(run.isEmpty, b == 3, "filter \(b)")
            guard !run.isEmpty else { continue }
            XCTAssertTrue(run.allSatisfy { $0 > 0 && $0 <= 1 }, "filter \(b)")
            XCTAssertLessThan(bank.firstBin[b] + run.count, 257, "filter \(b) reaches Nyquist")
            let peak = run.indices.max { run[$0] < run[$1] } ?? 0
            XCTAssertTrue(zip(run[..<peak], run[1...]).allSatisfy { $0 <= $1 }, "filter \(b) rises")
            XCTAssertTrue(zip(run[peak...], run[(peak + 1)...]).allSatisfy { $0 >= $1 }, "filter \(b) falls")
        }
    }
}
