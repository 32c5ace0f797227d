import Atomics
import Foundation
import Logging

/// A WAV file as an `AudioSource`: read on its own thread, converted to mono, resampled to
/// `sampleRate` and written into the ring, which is finished at the end of the file.
///
/// As fast as the consumer takes it (default; lossless, the ring's fill throttles the reader),
/// or paced at real time (`realTime`: the reader sleeps so wall clock ≈ stream time and the
/// file behaves like a live microphone, overruns included) for demos and latency tests.
public final class WAVFileSource: AudioSource, @unchecked Sendable {
    public struct Options: Sendable {
        public var channelSelection: ChannelSelection
        /// Rate written into the ring.
        public var outputRate: Int
        public var realTime: Bool
        /// Frames read per step.
        public var chunkFrames: Int

        public init(channelSelection: ChannelSelection = .average, outputRate: Int = 16000,
                    realTime: Bool = false, chunkFrames: Int = 4096) {
            self.channelSelection = channelSelection
            self.outputRate = outputRate
            self.realTime = realTime
            self.chunkFrames = chunkFrames
        }
    }

    public let name: String
    public var sampleRate: Int { options.outputRate }
    public let statistics = CaptureStatistics()
    public var lastError: AudioInputError? { errorSlot.value }
    /// The file's own format, known once the header is read (by `start`, or for a FIFO by the
    /// reader thread once a writer has come).
    public var fileFormat: AudioFormat? { formatSlot.value }
    /// The file ended before its data chunk did (the frames present were still delivered).
    public var isTruncated: Bool { truncated.load(ordering: .relaxed) }

    private let options: Options
    private let logger: Logger
    private let errorSlot = LockedValue<AudioInputError?>(nil)
    private let formatSlot = LockedValue<AudioFormat?>(nil)
    private let truncated = ManagedAtomic<Bool>(false)
    private var thread: CaptureThread?

    public init(path: String, options: Options = Options(), logger: Logger) {
        name = path
        self.options = options
        self.logger = logger
    }

    /// Opens the file and reads its header (throwing when it cannot be read as a WAV), then
    /// starts the reader thread. A FIFO is opened on the reader thread instead: its header comes
    /// only when a writer does, and `stop()` must be able to end that wait.
    public func start(into ring: RingBuffer) throws {
        guard thread == nil else { throw AudioInputError(.alreadyStarted, source: name, "start called twice") }
        var info = stat()
        guard stat(name, &info) == 0 else {
            throw AudioInputError(.io, source: name, "cannot open: \(String(cString: strerror(errno)))")
        }
        let thread = try CaptureThread(name: "wav-reader")
        if info.st_mode & S_IFMT == S_IFIFO {
            self.thread = thread
            thread.start { [self] stop in
                do {
                    let (reader, pipeline) = try open(stop: stop)
                    run(reader: reader, pipeline: pipeline, ring: ring, stop: stop)
                } catch {
                    if !stop.isFired { record(error) }
                    ring.finish()
                }
            }
            return
        }
        let (reader, pipeline) = try open(stop: nil)
        self.thread = thread
        thread.start { [self] stop in run(reader: reader, pipeline: pipeline, ring: ring, stop: stop) }
    }

    private func open(stop: StopSignal?) throws -> (WAVReader, SourcePipeline) {
        let reader = try WAVReader(path: name, logger: logger, stop: stop)
        let pipeline = try SourcePipeline(
            format: reader.format, selection: options.channelSelection, outputRate: options.outputRate,
            backpressure: options.realTime ? .drop : .wait, maxFrames: options.chunkFrames, source: name)
        formatSlot.value = reader.format
        logger.info("\(name): \(reader.format), \(reader.declaredFrames.map { "\($0) frames" } ?? "length unknown") → mono \(options.outputRate) Hz\(options.realTime ? ", paced at real time" : "")")
        return (reader, pipeline)
    }

    private func record(_ error: Error) {
        let failure = error as? AudioInputError ?? AudioInputError(.io, source: name, "read failed: \(error)")
        logger.error("\(failure)")
        errorSlot.value = failure
    }

    public func stop() {
        thread?.stopAndJoin(timeout: 1, logger: logger)
    }

    private func run(reader: WAVReader, pipeline: SourcePipeline, ring: RingBuffer, stop: StopSignal) {
        let frameBytes = reader.format.bytesPerFrame
        let raw = UnsafeMutableRawPointer.allocate(byteCount: options.chunkFrames * frameBytes, alignment: 16)
        defer { raw.deallocate() }
        let started = DispatchTime.now().uptimeNanoseconds
        while !stop.isFired {
            let frames: Int
            do {
                frames = try reader.readFrames(into: raw, maxFrames: options.chunkFrames)
            } catch {
                if !stop.isFired { record(error) }
                break
            }
            if frames == 0 { break }
            statistics.countFrames(frames)
            guard pipeline.push(raw, frames: frames, into: ring, stop: stop) else { break }
            if options.realTime {
                let streamSeconds = Double(reader.framesRead) / Double(reader.format.sampleRate)
                let wallSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                if streamSeconds > wallSeconds, !stop.sleep(seconds: streamSeconds - wallSeconds) { break }
            }
        }
        truncated.store(reader.isTruncated, ordering: .relaxed)
        pipeline.finish(into: ring, stop: stop)
    }
}
