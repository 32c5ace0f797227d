/// What the daemon needs from any input (ALSA device, WAV file, raw PCM pipe), so it can
/// treat them alike.
///
/// Where resampling happens: inside the source, on its capture thread, before the ring.
/// Each source converts its frames to mono Float (`MonoConverter`), resamples them to
/// `sampleRate` (`Resampler`, skipped when the rates match) and writes the result into the
/// `RingBuffer`; the ring and everything after it see only mono samples at the model rate.
///
/// A source writes into one ring from one thread, calls `finish()` on the ring when its
/// stream ends (end of file, or `stop()`), and never throws from that thread: errors there
/// are logged, counted in `statistics` and kept in `lastError`.
public protocol AudioSource: AnyObject, Sendable {
    /// The file path, `stdin`, or ALSA device name, as in log lines.
    var name: String { get }
    /// The rate of the samples written into the ring (the model rate, usually 16000).
    var sampleRate: Int { get }
    var statistics: CaptureStatistics { get }
    /// The latest error: for files and pipes the one that ended the stream early; for ALSA the
    /// latest failure, which is being retried. Nil when there was none.
    var lastError: AudioInputError? { get }
    /// Opens the input (throwing for a file that cannot be read as configured; an absent ALSA
    /// device is retried instead) and starts the capture thread writing into `ring`.
    func start(into ring: RingBuffer) throws
    /// Stops the capture thread and returns within about a second; the ring is then finished.
    func stop()
}

/// What a stage does when the stage after it is full: the one drop-or-wait policy of the whole
/// pipeline (a source writing the ring, the inference queue, standard output).
public enum Backpressure: Sendable, Equatable {
    /// Wait for room (lossless): for files and pipes of files, where nothing is lost by waiting.
    case wait
    /// Drop and count (`RingBuffer.overrunSamples`, dropped windows, dropped lines): for live
    /// audio, where waiting would only move the loss into the device or the writer of the pipe.
    case drop
}
