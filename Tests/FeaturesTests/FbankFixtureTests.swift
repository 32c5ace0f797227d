import Foundation
import MAST
import XCTest

@testable import Features

/// One `fbank_NAME.safetensors` written by training/make_fbank_fixtures.py:
/// waveform [N], fbank [frames, mel_bins] from torchaudio, and the options in `__metadata__["fbank"]`.
struct FbankFixture {
    let name: String
    let options: FbankOptions
    let waveform: [Float]
    let fbank: [Float]
    let frames: Int

    static let names = ["chirp_noise", "tone_1khz", "near_silent", "odd_length", "hamming_8k", "povey_gaps"]

    init(_ name: String) throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "fbank_\(name)", withExtension: "safetensors", subdirectory: "Fixtures"),
            "missing fixture fbank_\(name).safetensors; run training/make_fbank_fixtures.py")
        let file = try SafeTensorsFile(contentsOf: url)
        let json = try XCTUnwrap(file.metadata["fbank"], "fixture \(name) has no fbank options")
        self.name = name
        options = try JSONDecoder().decode(FbankOptions.self, from: Data(json.utf8))
        waveform = try file.tensor("waveform").floats()
        let fbank = try file.tensor("fbank")
        XCTAssertEqual(fbank.shape.count, 2)
        XCTAssertEqual(fbank.shape.last, options.numMelBins)
        frames = fbank.shape[0]
        self.fbank = fbank.floats()
    }
}

final class FbankFixtureTests: XCTestCase {
    /// The bound the brief sets against torchaudio. The fixtures' own float32 rounding (float32
    /// versus float64 torchaudio) is below 3e-4, checked when they are made.
    static let tolerance: Float = 1e-3

    func testBatchMatchesTorchaudio() throws {
        for name in FbankFixture.names {
            let fixture = try FbankFixture(name)
            let ours = try StreamingFbank.compute(fixture.waveform, options: fixture.options)
            XCTAssertEqual(fixture.options.frameCount(sampleCount: fixture.waveform.count), fixture.frames, name)
            XCTAssertEqual(ours.count, fixture.fbank.count, name)
            guard ours.count == fixture.fbank.count else { continue }
            let maxDiff = zip(ours, fixture.fbank).map { abs($0 - $1) }.max() ?? 0
            print("fbank_\(name): [\(fixture.frames), \(fixture.options.numMelBins)] max |swift - torchaudio| = \(maxDiff)")
            XCTAssertLessThanOrEqual(maxDiff, Self.tolerance, name)
        }
    }

    /// The model file's `fbank` metadata decodes from exactly these keys.
    func testOptionsDecodeFromSnakeCaseKeys() throws {
        let fixture = try FbankFixture("chirp_noise")
        XCTAssertEqual(fixture.options, FbankOptions())
        let encoded = try JSONEncoder().encode(FbankOptions())
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded) as? [String: Any]).keys
        XCTAssertEqual(Set(keys), ["sample_rate", "num_mel_bins", "frame_length_ms", "frame_shift_ms",
                                   "low_freq", "high_freq", "preemphasis", "window_type",
                                   "remove_dc_offset", "round_to_power_of_two"])
    }
}
