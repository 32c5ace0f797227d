import Foundation
import XCTest

@testable import AudioInput

final class ResamplerTests: XCTestCase {
    private func sine(frequency: Double, rate: Int, seconds: Double, amplitude: Double = 0.5) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
    }

    private func oneShot(_ input: [Float], from: Int, to: Int) throws -> [Float] {
        let resampler = try Resampler(inputRate: from, outputRate: to)
        return resampler.process(input) + resampler.flush()
    }

    /// Amplitude of `frequency` in `signal` by a single DFT bin (Hann-windowed, coherent-gain corrected).
    private func toneAmplitude(_ signal: ArraySlice<Float>, frequency: Double, rate: Int) -> Double {
        var re = 0.0, im = 0.0, gain = 0.0
        let n = signal.count
        for (i, x) in signal.enumerated() {
            let w = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n))
            let phase = 2 * Double.pi * frequency * Double(i) / Double(rate)
            re += Double(x) * w * cos(phase)
            im += Double(x) * w * sin(phase)
            gain += w
        }
        return 2 * (re * re + im * im).squareRoot() / gain
    }

    /// Frequency from the mean spacing of upward zero crossings (linearly interpolated).
    private func zeroCrossingFrequency(_ signal: ArraySlice<Float>, rate: Int) -> Double {
        var crossings: [Double] = []
        let s = Array(signal)
        for i in 1..<s.count where s[i - 1] < 0 && s[i] >= 0 {
            crossings.append(Double(i - 1) + Double(-s[i - 1] / (s[i] - s[i - 1])))
        }
        return Double(rate) * Double(crossings.count - 1) / (crossings.last! - crossings.first!)
    }

    func testRationalRatios() throws {
        let cases = [(48000, 1, 3), (44100, 160, 441), (22050, 320, 441), (8000, 2, 1), (16000, 1, 1)]
        for (rate, up, down) in cases {
            let resampler = try Resampler(inputRate: rate, outputRate: 16000)
            XCTAssertEqual(resampler.up, up, "\(rate)")
            XCTAssertEqual(resampler.down, down, "\(rate)")
        }
    }

    /// A 1 kHz sine at 48 kHz, 44.1 kHz, 22.05 kHz and 8 kHz becomes a 1 kHz sine at 16 kHz
    /// with the same amplitude (within 1 %) and the same phase (zero delay).
    func testSineKeepsFrequencyAmplitudeAndPhase() throws {
        for rate in [48000, 44100, 22050, 8000] {
            let input = sine(frequency: 1000, rate: rate, seconds: 1)
            let output = try oneShot(input, from: rate, to: 16000)
            let middle = output[2000..<14000]          // away from the zero-padded edges
            XCTAssertEqual(zeroCrossingFrequency(middle, rate: 16000), 1000, accuracy: 0.5, "\(rate) Hz")
            XCTAssertEqual(toneAmplitude(middle, frequency: 1000, rate: 16000), 0.5, accuracy: 0.005, "\(rate) Hz")
            let ideal = sine(frequency: 1000, rate: 16000, seconds: 1)
            let error = zip(middle, ideal[2000..<14000]).map { abs(Double($0) - Double($1)) }.max()!
            XCTAssertLessThan(error, 1e-4, "\(rate) Hz: output is not the ideal 16 kHz sine sample for sample")
        }
    }

    /// 10 kHz at 48 kHz is above the 8 kHz output Nyquist: it must not alias into the output
    /// (it would land at 6 kHz). Relative to the input tone: the issue asks ≥ 50 dB; the filter is designed for 70 dB, checked here.
    func testAliasingToneIsAttenuated() throws {
        for (rate, tone) in [(48000, 10000.0), (44100, 10000.0), (48000, 8500.0)] {
            let output = try oneShot(sine(frequency: tone, rate: rate, seconds: 1), from: rate, to: 16000)
            let middle = output[2000..<14000]
            let rms = (middle.map { Double($0) * Double($0) }.reduce(0, +) / Double(middle.count)).squareRoot()
            let attenuation = 20 * log10(0.5 / 2.squareRoot() / rms)
            XCTAssertGreaterThanOrEqual(attenuation, 70, "\(tone) Hz at \(rate) Hz")
        }
    }

    /// Upsampling must not create images: 8 kHz → 16 kHz puts nothing above 4 kHz.
    func testUpsamplingImagesAreAttenuated() throws {
        let output = try oneShot(sine(frequency: 1000, rate: 8000, seconds: 1), from: 8000, to: 16000)
        let image = toneAmplitude(output[2000..<14000], frequency: 7000, rate: 16000)
        XCTAssertLessThan(20 * log10(image / 0.5), -60)
    }

    /// Pushing in chunks of any size (1 sample, primes, larger than the internal block) gives
    /// bit-identical output to pushing everything at once; the total length is the ratio ± 1.
    func testChunkedEqualsOneShotAndLengthMatchesRatio() throws {
        var noise = pseudoRandomInt16(count: 30000, seed: 7).map { Float($0) / 32768 }
        noise += [Float](repeating: 0.25, count: 1234)
        for rate in [48000, 44100, 22050, 8000] {
            let whole = try oneShot(noise, from: rate, to: 16000)
            let expectedLength = Double(noise.count) * 16000 / Double(rate)
            XCTAssertLessThanOrEqual(abs(Double(whole.count) - expectedLength), 1, "\(rate) Hz")
            for chunkSize in [1, 7, 160, 4097, 10000] {
                let resampler = try Resampler(inputRate: rate, outputRate: 16000)
                var chunked: [Float] = []
                var offset = 0
                while offset < noise.count {
                    let end = min(offset + chunkSize, noise.count)
                    chunked += resampler.process(Array(noise[offset..<end]))
                    offset = end
                }
                chunked += resampler.flush()
                XCTAssertEqual(chunked.count, whole.count, "\(rate) Hz in chunks of \(chunkSize)")
                XCTAssertTrue(chunked == whole, "\(rate) Hz in chunks of \(chunkSize): output differs from one-shot")
            }
        }
    }

    func testConstantSignalKeepsItsLevel() throws {
        let output = try oneShot([Float](repeating: 0.3, count: 48000), from: 48000, to: 16000)
        for x in output[500..<15500] { XCTAssertEqual(x, 0.3, accuracy: 1e-5) }
    }

    func testInvalidRates() {
        XCTAssertThrowsError(try Resampler(inputRate: 0, outputRate: 16000))
        XCTAssertThrowsError(try Resampler(inputRate: 48000, outputRate: -1))
    }

    /// Rates with no common divisor need a filter phase per output sample; past the table cap
    /// the resampler refuses instead of allocating hundreds of megabytes (99999989 Hz: 34 GB).
    func testRatioNeedingAHugeTableIsRefused() {
        XCTAssertThrowsError(try Resampler(inputRate: 767_999, outputRate: 16000)) { error in
            XCTAssertTrue("\(error)".contains("16000-phase filter"), "\(error)")
        }
        XCTAssertNoThrow(try Resampler(inputRate: 44101, outputRate: 16000))
    }
}
