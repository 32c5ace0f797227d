import CALSA
import Foundation

/// What was agreed with a capture device: the PCM format read from it, and its period and buffer sizes.
public struct ALSAStreamParameters: Sendable, Equatable, CustomStringConvertible {
    public var format: AudioFormat
    /// Frames per period (one read) and in the device's ring.
    public var periodFrames: Int
    public var bufferFrames: Int

    public var description: String { "\(format), period \(periodFrames) frames, buffer \(bufferFrames) frames" }
}

/// One open, configured capture PCM (alsa-lib `snd_pcm_t`), opened non-blocking so the capture
/// thread can poll it together with its stop signal: the `CapturePCM` that `ALSACapture` opens.
/// Used by one thread; `close()` (or deinit) drops pending frames and closes it.
final class ALSADevice: CapturePCM {
    let name: String
    let parameters: ALSAStreamParameters
    private let pcm: OpaquePointer
    private var closed = false
    /// The device's poll descriptors; the capture loop polls them with its stop pipe.
    let pollDescriptorCount: Int

    /// Opens `name` for capture and negotiates the stream:
    /// - rate: `rate` if the device offers it, else the nearest it offers (alsa-lib's own
    ///   resampling in `plug` is disabled, so the windowed-sinc `Resampler` does the conversion);
    /// - format: the first of `formats` the device offers;
    /// - channels: `channels` if offered (nearest otherwise), or the device's minimum when nil;
    /// - period ≈ `periodSeconds`, buffer ≈ `bufferPeriods` periods, interleaved read access.
    init(name: String, rate: Int, formats: [SampleFormat], channels: Int?, periodSeconds: Double, bufferPeriods: Int) throws {
        var handle: OpaquePointer?
        var err = snd_pcm_open(&handle, name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK)
        guard err >= 0, let handle else {
            throw Self.error(name, "cannot open for capture", err)
        }
        do {
            parameters = try Self.negotiate(handle, name: name, rate: rate, formats: formats, channels: channels,
                                            periodSeconds: periodSeconds, bufferPeriods: bufferPeriods)
            err = snd_pcm_prepare(handle)
            if err < 0 { throw Self.error(name, "cannot prepare", err) }
            err = snd_pcm_start(handle)
            if err < 0 { throw Self.error(name, "cannot start capture", err) }
            let count = snd_pcm_poll_descriptors_count(handle)
            if count < 0 { throw Self.error(name, "cannot get poll descriptors", count) }
            pollDescriptorCount = Int(count)
        } catch {
            snd_pcm_close(handle)
            throw error
        }
        self.name = name
        pcm = handle
    }

    deinit { close() }

    /// Releases the device at once (before a back-off sleep, so a replugged device is free to reopen).
    func close() {
        guard !closed else { return }
        closed = true
        snd_pcm_drop(pcm)
        snd_pcm_close(pcm)
    }

    /// Fills `fds[0..<pollDescriptorCount]`.
    func fillPollDescriptors(_ fds: UnsafeMutablePointer<pollfd>) throws {
        let filled = snd_pcm_poll_descriptors(pcm, fds, UInt32(pollDescriptorCount))
        if filled < 0 { throw Self.error(name, "cannot get poll descriptors", filled) }
    }

    /// Translates poll()'s result on the device's descriptors into the PCM's events (POLLIN, POLLERR).
    func events(_ fds: UnsafeMutablePointer<pollfd>) throws -> Int32 {
        var revents: UInt16 = 0
        let err = snd_pcm_poll_descriptors_revents(pcm, fds, UInt32(pollDescriptorCount), &revents)
        if err < 0 { throw Self.error(name, "poll failed", err) }
        return Int32(revents)
    }

    /// One non-blocking read of up to `frames` frames into `buffer`: frames read (> 0), or a
    /// negative errno (-EAGAIN: nothing ready; -EPIPE: overrun; -ESTRPIPE: suspended; others: gone).
    func read(into buffer: UnsafeMutableRawPointer, frames: Int) -> Int {
        snd_pcm_readi(pcm, buffer, snd_pcm_uframes_t(frames))
    }

    /// After an overrun: prepare and restart.
    func restart() throws {
        var err = snd_pcm_prepare(pcm)
        if err < 0 { throw Self.error(name, "cannot recover from overrun (prepare)", err) }
        err = snd_pcm_start(pcm)
        if err < 0 { throw Self.error(name, "cannot restart after overrun", err) }
    }

    /// After a suspend: snd_pcm_resume until the hardware is back (it answers -EAGAIN until
    /// then; `wait` sleeps between tries and returns false when the capture is stopping), or
    /// prepare and restart when the driver cannot resume.
    func resume(wait: () -> Bool) throws {
        var err = snd_pcm_resume(pcm)
        while err == -EAGAIN {
            guard wait() else { return }
            err = snd_pcm_resume(pcm)
        }
        if err < 0 {
            err = snd_pcm_prepare(pcm)
            if err < 0 { throw Self.error(name, "cannot recover from suspend (prepare)", err) }
        }
        if snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING {
            err = snd_pcm_start(pcm)
            if err < 0 { throw Self.error(name, "cannot restart after suspend", err) }
        }
    }

    static func error(_ name: String, _ what: String, _ code: Int32) -> AudioInputError {
        AudioInputError(.device, source: "ALSA device '\(name)'", "\(what): \(String(cString: snd_strerror(code))) (\(code))")
    }

    static func alsaFormat(_ format: SampleFormat) -> snd_pcm_format_t {
        switch format {
        case .s16LE: SND_PCM_FORMAT_S16_LE
        case .s24_3LE: SND_PCM_FORMAT_S24_3LE
        case .s32LE: SND_PCM_FORMAT_S32_LE
        case .float32LE: SND_PCM_FORMAT_FLOAT_LE
        }
    }

    private static func negotiate(_ pcm: OpaquePointer, name: String, rate: Int, formats: [SampleFormat], channels: Int?,
                                  periodSeconds: Double, bufferPeriods: Int) throws -> ALSAStreamParameters {
        var params: OpaquePointer?
        var err = snd_pcm_hw_params_malloc(&params)
        guard err >= 0, let params else { throw error(name, "cannot allocate hardware parameters", err) }
        defer { snd_pcm_hw_params_free(params) }

        err = snd_pcm_hw_params_any(pcm, params)
        if err < 0 { throw error(name, "cannot read hardware parameters", err) }
        err = snd_pcm_hw_params_set_rate_resample(pcm, params, 0)
        if err < 0 { throw error(name, "cannot disable alsa-lib resampling", err) }
        err = snd_pcm_hw_params_set_access(pcm, params, SND_PCM_ACCESS_RW_INTERLEAVED)
        if err < 0 { throw error(name, "does not offer interleaved read access", err) }

        guard let format = formats.first(where: { snd_pcm_hw_params_test_format(pcm, params, alsaFormat($0)) == 0 }) else {
            throw AudioInputError(.device, source: "ALSA device '\(name)'",
                                  "offers none of the sample formats \(formats.map(\.rawValue).joined(separator: ", "))")
        }
        err = snd_pcm_hw_params_set_format(pcm, params, alsaFormat(format))
        if err < 0 { throw error(name, "cannot set format \(format)", err) }

        var channelCount: UInt32 = 0
        if let channels, snd_pcm_hw_params_test_channels(pcm, params, UInt32(channels)) == 0 {
            channelCount = UInt32(channels)
            err = snd_pcm_hw_params_set_channels(pcm, params, channelCount)
        } else if let channels {
            channelCount = UInt32(channels)
            err = snd_pcm_hw_params_set_channels_near(pcm, params, &channelCount)
        } else {
            err = snd_pcm_hw_params_get_channels_min(params, &channelCount)
            if err >= 0 { err = snd_pcm_hw_params_set_channels(pcm, params, max(channelCount, 1)) }
            channelCount = max(channelCount, 1)
        }
        if err < 0 { throw error(name, "cannot set \(channels.map { "\($0)" } ?? "the minimum number of") channels", err) }

        var actualRate = UInt32(rate)
        if snd_pcm_hw_params_test_rate(pcm, params, actualRate, 0) == 0 {
            err = snd_pcm_hw_params_set_rate(pcm, params, actualRate, 0)
        } else {
            var direction: Int32 = 0
            err = snd_pcm_hw_params_set_rate_near(pcm, params, &actualRate, &direction)
        }
        if err < 0 { throw error(name, "cannot set a sample rate near \(rate) Hz", err) }

        var period = snd_pcm_uframes_t(max(Double(actualRate) * periodSeconds, 16).rounded())
        var direction: Int32 = 0
        err = snd_pcm_hw_params_set_period_size_near(pcm, params, &period, &direction)
        if err < 0 { throw error(name, "cannot set a period of \(period) frames", err) }
        var buffer = period * snd_pcm_uframes_t(max(bufferPeriods, 2))
        err = snd_pcm_hw_params_set_buffer_size_near(pcm, params, &buffer)
        if err < 0 { throw error(name, "cannot set a buffer of \(buffer) frames", err) }

        err = snd_pcm_hw_params(pcm, params)
        if err < 0 { throw error(name, "cannot apply hardware parameters (\(format), \(actualRate) Hz, \(channelCount) ch)", err) }
        // Read back what the device settled on.
        snd_pcm_hw_params_get_period_size(params, &period, &direction)
        snd_pcm_hw_params_get_buffer_size(params, &buffer)
        snd_pcm_hw_params_get_rate(params, &actualRate, &direction)
        snd_pcm_hw_params_get_channels(params, &channelCount)
        return ALSAStreamParameters(
            format: AudioFormat(sampleFormat: format, sampleRate: Int(actualRate), channels: Int(channelCount)),
            periodFrames: Int(period), bufferFrames: Int(buffer))
    }
}
