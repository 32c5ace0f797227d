import Foundation

/// An open capture PCM as `ALSACapture`'s capture loop uses it: negotiated parameters, poll
/// descriptors, non-blocking reads and the recovery calls. `ALSADevice` is the real one; tests
/// drive the recovery paths (overrun, suspend, unplug, watchdog) with a scripted one.
///
/// Used by one thread. `read` never blocks; `close()` drops pending frames and releases the
/// device, and may be called more than once.
protocol CapturePCM: AnyObject {
    /// What was agreed with the device: format, period and buffer sizes.
    var parameters: ALSAStreamParameters { get }
    /// The number of poll descriptors `fillPollDescriptors` fills.
    var pollDescriptorCount: Int { get }

    /// Fills `fds[0..<pollDescriptorCount]`.
    func fillPollDescriptors(_ fds: UnsafeMutablePointer<pollfd>) throws

    /// Translates poll()'s result on the device's descriptors into the PCM's events (POLLIN,
    /// POLLERR); 0 when nothing is to be done.
    func events(_ fds: UnsafeMutablePointer<pollfd>) throws -> Int32

    /// One non-blocking read of up to `frames` frames into `buffer`: frames read (> 0), or a
    /// negative errno (-EAGAIN: nothing ready; -EPIPE: overrun; -ESTRPIPE: suspended; others: gone).
    func read(into buffer: UnsafeMutableRawPointer, frames: Int) -> Int

    /// After an overrun: prepare and restart.
    func restart() throws

    /// After a suspend: resume, retrying while the hardware is not back yet (`wait` sleeps
    /// between tries and returns false when the capture is stopping, and then resume returns),
    /// or prepare and restart when the driver cannot resume.
    func resume(wait: () -> Bool) throws

    /// Releases the device at once (before a back-off sleep, so a replugged device is free to reopen).
    func close()
}
