import Foundation

/// The input's loudness over a stretch of time, in dB relative to full scale (0 dBFS is a sample
/// of ±1.0; a full-scale sine has an RMS of −3 dBFS). Silence is `floorDecibels`, not −∞, so the
/// numbers always fit JSON and Prometheus.
public struct AudioLevel: Equatable, Sendable {
    public static let floorDecibels = -120.0
    public var rmsDecibels: Double
    public var peakDecibels: Double
    /// The stretch of audio measured.
    public var seconds: Double

    public init(sumOfSquares: Double, peak: Float, count: Int, sampleRate: Int) {
        func decibels(_ amplitude: Double) -> Double {
            amplitude > 0 ? max(20 * log10(amplitude), Self.floorDecibels) : Self.floorDecibels
        }
        rmsDecibels = decibels(count > 0 ? (sumOfSquares / Double(count)).squareRoot() : 0)
        peakDecibels = decibels(Double(peak))
        seconds = Double(count) / Double(sampleRate)
    }
}

/// Sums the samples the feature stage passes on (its thread) until the next `take` (any thread).
public final class LevelMeter: @unchecked Sendable {
    private let sampleRate: Int
    private let lock = NSLock()
    // Guarded by `lock`:
    private var sumOfSquares = 0.0
    private var peak: Float = 0
    private var count = 0
    private var lastAudio = DispatchTime.now()

    public init(sampleRate: Int) { self.sampleRate = sampleRate }

    /// Whether audio came within the last `seconds` (counting from the meter's making, so a
    /// pipeline that just started is not called silent).
    public func heardAudio(within seconds: Double) -> Bool {
        lock.withLock { Double(DispatchTime.now().uptimeNanoseconds - lastAudio.uptimeNanoseconds) / 1e9 < seconds }
    }

    public func add(_ samples: UnsafeBufferPointer<Float>) {
        var squares: Float = 0, high: Float = 0
        for sample in samples {
            squares += sample * sample
            high = max(high, abs(sample))
        }
        lock.withLock {
            sumOfSquares += Double(squares)
            peak = max(peak, high)
            count += samples.count
            if !samples.isEmpty { lastAudio = .now() }
        }
    }

    /// The level since the last call (nil when no audio came), and a fresh start.
    public func take() -> AudioLevel? {
        lock.withLock {
            defer { sumOfSquares = 0; peak = 0; count = 0 }
            return count > 0 ? AudioLevel(sumOfSquares: sumOfSquares, peak: peak, count: count, sampleRate: sampleRate) : nil
        }
    }
}
