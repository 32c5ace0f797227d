import Foundation
import Logging

/// Raw PCM from a pipe or file (`--input stdin`) as an `AudioSource`. The capture thread
/// polls the descriptor together with the stop signal, so `stop()` returns promptly even
/// while the writer is silent; end of input finishes the ring.
///
/// Backpressure defaults to `.wait`: the pipe then throttles its writer (ffmpeg decoding a
/// file loses nothing). Use `.drop` behind a live `arecord`, so a slow consumer shows up as
/// counted ring overruns rather than as overruns inside arecord.
public final class RawPCMSource: AudioSource, @unchecked Sendable {
    public struct Options: Sendable {
        public var channelSelection: ChannelSelection
        /// Rate written into the ring.
        public var outputRate: Int
        public var backpressure: Backpressure
        /// Most frames taken per read.
        public var chunkFrames: Int

        public init(channelSelection: ChannelSelection = .average, outputRate: Int = 16000,
                    backpressure: Backpressure = .wait, chunkFrames: Int = 4096) {
            self.channelSelection = channelSelection
            self.outputRate = outputRate
            self.backpressure = backpressure
            self.chunkFrames = chunkFrames
        }
    }

    public var name: String { reader.name }
    public var sampleRate: Int { options.outputRate }
    public let statistics = CaptureStatistics()
    public var lastError: AudioInputError? { errorSlot.value }

    private let reader: RawPCMReader
    private let options: Options
    private let logger: Logger
    private let errorSlot = LockedValue<AudioInputError?>(nil)
    private var thread: CaptureThread?

    /// The source owns `reader` from here on; only its capture thread reads it.
    public init(reader: RawPCMReader, options: Options = Options(), logger: Logger) {
        self.reader = reader
        self.options = options
        self.logger = logger
    }

    public func start(into ring: RingBuffer) throws {
        guard thread == nil else { throw AudioInputError(.alreadyStarted, source: name, "start called twice") }
        let pipeline = try SourcePipeline(
            format: reader.format, selection: options.channelSelection, outputRate: options.outputRate,
            backpressure: options.backpressure, maxFrames: options.chunkFrames, source: name)
        logger.info("\(name): raw \(reader.format) → mono \(options.outputRate) Hz")
        let thread = try CaptureThread(name: "pcm-reader")
        self.thread = thread
        thread.start { [self] stop in run(pipeline: pipeline, ring: ring, stop: stop) }
    }

    public func stop() {
        thread?.stopAndJoin(timeout: 1, logger: logger)
    }

    private func run(pipeline: SourcePipeline, ring: RingBuffer, stop: StopSignal) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: options.chunkFrames * reader.format.bytesPerFrame, alignment: 16)
        defer { raw.deallocate() }
        // [input, stop]; poll until one is ready (the stop signal bounds the wait).
        let fds = UnsafeMutablePointer<pollfd>.allocate(capacity: 2)
        defer { fds.deallocate() }
        while !stop.isFired {
            fds[0] = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
            fds[1] = pollfd(fd: stop.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = StopSignal.poll(fds, count: 2, timeoutSeconds: 3600)
            if ready < 0 {
                record(AudioInputError(.io, source: name, "poll failed: \(String(cString: strerror(-ready)))"))
                break
            }
            if stop.isFired { break }
            if ready == 0 { continue }
            let frames: Int
            do {
                frames = try reader.readFrames(into: raw, maxFrames: options.chunkFrames)
            } catch {
                record(error as? AudioInputError ?? AudioInputError(.io, source: name, "read failed: \(error)"))
                break
            }
            if frames == 0 {
                logger.info("\(name): end of input after \(reader.framesRead) frames")
                break
            }
            statistics.countFrames(frames)
            guard pipeline.push(raw, frames: frames, into: ring, stop: stop) else { break }
        }
        pipeline.finish(into: ring, stop: stop)
    }

    private func record(_ error: AudioInputError) {
        logger.error("\(error)")
        errorSlot.value = error
    }
}
