import Foundation
import XCTest

@testable import Features

final class FbankOptionsTests: XCTestCase {
    func testASTDefaultsAreValid() throws {
        XCTAssertNoThrow(try FbankOptions().validate())
        for window in FbankOptions.WindowType.allCases {
            XCTAssertNoThrow(try FbankOptions(windowType: window).validate())
        }
    }

    /// Each bad value is reported under its model-file key, by `validate()` and by the
    /// `StreamingFbank` initialiser.
    func testBadOptionsNameTheField() {
        func options(_ change: (inout FbankOptions) -> Void) -> FbankOptions {
            var options = FbankOptions()
            change(&options)
            return options
        }
        let cases: [(String, FbankOptions)] = [
            ("sample_rate", options { $0.sampleRate = 0 }),
            ("sample_rate", options { $0.sampleRate = -16000 }),
            ("num_mel_bins", options { $0.numMelBins = 3 }),
            ("num_mel_bins", options { $0.numMelBins = Int.max }),
            ("frame_length_ms", options { $0.frameLengthMs = 0.1 }),      // 1 sample
            ("frame_length_ms", options { $0.frameLengthMs = .nan }),
            ("frame_length_ms", options { $0.frameLengthMs = 1e300 }),
            ("frame_length_ms", options { $0.frameLengthMs = 25.0625; $0.roundToPowerOfTwo = false }),  // 401
            ("frame_shift_ms", options { $0.frameShiftMs = 0 }),
            ("frame_shift_ms", options { $0.frameShiftMs = -10 }),
            ("frame_shift_ms", options { $0.frameShiftMs = .infinity }),
            ("low_freq", options { $0.lowFreq = -1 }),
            ("low_freq", options { $0.lowFreq = 8000 }),
            ("low_freq", options { $0.lowFreq = .nan }),
            ("low_freq", options { $0.lowFreq = 5000; $0.highFreq = 4000 }),
            ("high_freq", options { $0.highFreq = 8001 }),
            ("high_freq", options { $0.highFreq = -8000 }),
            ("high_freq", options { $0.highFreq = .nan }),
            ("preemphasis", options { $0.preemphasis = 1.5 }),
            ("preemphasis", options { $0.preemphasis = -0.1 }),
            ("preemphasis", options { $0.preemphasis = .nan }),
        ]
        for (field, bad) in cases {
            XCTAssertThrowsError(try bad.validate(), field) { error in
                XCTAssertEqual((error as? FbankOptionsError)?.field, field, "\(error)")
                XCTAssertTrue("\(error)".contains("'\(field)'"), "\(error)")
            }
            XCTAssertThrowsError(try StreamingFbank(options: bad), field) { error in
                XCTAssertEqual((error as? FbankOptionsError)?.field, field, "\(error)")
            }
        }
    }

    func testUnknownWindowTypeFailsToDecode() throws {
        var json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: JSONEncoder().encode(FbankOptions())) as? [String: Any])
        json["window_type"] = "blackman"
        let data = try JSONSerialization.data(withJSONObject: json)
        XCTAssertThrowsError(try JSONDecoder().decode(FbankOptions.self, from: data)) { error in
            guard case let DecodingError.dataCorrupted(context) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(context.codingPath.last?.stringValue, "window_type")
        }
    }

    func testNormalization() {
        var x: [Float] = [-4.2677393, 4.8702555, -13.405734]
        normalizeFeatures(&x, mean: -4.2677393, std: 4.5689974)
        XCTAssertEqual(x[0], 0)
        XCTAssertEqual(x[1], 1, accuracy: 1e-6)
        XCTAssertEqual(x[2], -1, accuracy: 1e-6)
    }
}
