import CFLAC
import Foundation

/// 16-bit mono FLAC, the clips' `flac` format, through Xiph's libFLAC: the same 16-bit samples
/// as WAVWriter writes (±1.0 full scale, rounded), so a clip decodes to them bit for bit, in
/// about half the bytes.
enum FLACWriter {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ samples: ArraySlice<Float>, sampleRate: Int, to path: String) throws {
        guard let encoder = FLAC__stream_encoder_new() else { throw Failure(description: "libFLAC could not make an encoder") }
        defer { FLAC__stream_encoder_delete(encoder) }
        let configured = FLAC__stream_encoder_set_channels(encoder, 1) != 0
            && FLAC__stream_encoder_set_bits_per_sample(encoder, 16) != 0
            && FLAC__stream_encoder_set_sample_rate(encoder, UInt32(sampleRate)) != 0
            && FLAC__stream_encoder_set_compression_level(encoder, 5) != 0
            && FLAC__stream_encoder_set_total_samples_estimate(encoder, UInt64(samples.count)) != 0
        guard configured else { throw Failure(description: "libFLAC refused 16-bit mono at \(sampleRate) Hz") }
        // Opened here, so that a failure says why (errno); "w+b": libFLAC seeks back to write
        // the stream's length into its header. The encoder closes it.
        guard let file = fopen(path, "w+b") else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        guard FLAC__stream_encoder_init_FILE(encoder, file, nil, nil) == FLAC__STREAM_ENCODER_INIT_STATUS_OK else {
            fclose(file)
            throw failure(encoder)
        }
        let pcm = samples.map { FLAC__int32(WAVWriter.pcm16($0)) }
        let encoded = pcm.withUnsafeBufferPointer { FLAC__stream_encoder_process_interleaved(encoder, $0.baseAddress, UInt32($0.count)) } != 0
        let error = encoded ? nil : failure(encoder)
        // Always finished: it flushes (or abandons) the stream and closes the file.
        let finished = FLAC__stream_encoder_finish(encoder) != 0
        if let error { throw error }
        guard finished else { throw Failure(description: "libFLAC could not finish the file (disk full?)") }
    }

    private static func failure(_ encoder: UnsafeMutablePointer<FLAC__StreamEncoder>) -> Failure {
        Failure(description: "libFLAC: " + String(cString: FLAC__stream_encoder_get_resolved_state_string(encoder)))
    }
}
