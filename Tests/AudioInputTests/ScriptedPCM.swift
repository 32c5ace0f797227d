import Foundation
import XCTest

@testable import AudioInput

/// A pretend capture device for `ALSACapture`'s recovery paths, which alsa-lib's `file` plugin
/// cannot produce: each open returns a `ScriptedPCM`, and reads, whichever PCM does them, follow
/// one script (the device's life: frames, an overrun, a suspend, an unplug, silence).
///
/// The stream is S16_LE mono at `rate` Hz; frame `i` of the whole stream (counted across
/// reopens) is `ramp(i)`, so a test knows exactly which samples must reach the ring and in what
/// order. Every call is recorded with the uptime it happened at.
final class ScriptedDevice: @unchecked Sendable {
    enum Step: Equatable {
        /// Deliver this many frames of the ramp (over as many reads as periods it spans).
        case frames(Int)
        /// One read returns this negated errno (EPIPE: overrun, ESTRPIPE: suspend, ENODEV: unplugged).
        case error(Int32)
        /// Nothing to read for this many seconds (the PCM's descriptor stops being readable,
        /// and becomes readable again after that time), as when the capture thread fell behind.
        case stall(Double)
        /// The PCM's descriptor stops being readable for good (a hung device). A PCM opened while
        /// this is the next step is never readable.
        case silent
    }

    enum Event: Equatable {
        /// Open attempt `n` (1-based), succeeded or thrown.
        case opened(Int)
        case openFailed(Int)
        /// PCM `n` (its open attempt's number) was closed.
        case closed(Int)
        /// A read delivered this many frames.
        case delivered(Int)
        /// A read returned this negated errno.
        case failed(Int32)
        case restarted
        /// One snd_pcm_resume-like attempt, and what it answered.
        case resumed(Int32)
    }

    let rate: Int
    let periodFrames: Int
    let channels: Int

    private let lock = NSLock()
    private var steps: [Step]
    private var failingOpens: Set<Int>
    private var resumeAnswers: [Int32]
    private var openAttempts = 0
    private var frameIndex = 0
    private var log: [(event: Event, uptime: UInt64)] = []

    /// `failingOpens`: the open attempts (1-based) that throw. `resumeAnswers`: what successive
    /// resume attempts answer (0 or a negated errno; 0 once used up).
    init(_ steps: [Step], rate: Int = 16000, periodFrames: Int = 320, channels: Int = 1,
         failingOpens: Set<Int> = [], resumeAnswers: [Int32] = []) {
        self.steps = steps
        self.rate = rate
        self.periodFrames = periodFrames
        self.channels = channels
        self.failingOpens = failingOpens
        self.resumeAnswers = resumeAnswers
    }

    /// Frame `i` of the stream.
    static func ramp(_ i: Int) -> Int16 { Int16(truncatingIfNeeded: i &* 7 &- 12345) }

    /// Frames `range` of the stream as the ring should hold them.
    static func samples(_ range: Range<Int>) -> [Float] { range.map { Float(ramp($0)) / 32768 } }

    var parameters: ALSAStreamParameters {
        ALSAStreamParameters(format: AudioFormat(sampleFormat: .s16LE, sampleRate: rate, channels: channels),
                             periodFrames: periodFrames, bufferFrames: periodFrames * 8)
    }

    /// The `open` closure for `ALSACapture`.
    func open(_ configuration: ALSACapture.Configuration) throws -> any CapturePCM {
        try lock.withLock {
            openAttempts += 1
            if failingOpens.contains(openAttempts) {
                record(.openFailed(openAttempts))
                throw AudioInputError(.device, source: "ALSA device '\(configuration.device)'",
                                      "cannot open for capture: scripted failure \(openAttempts)")
            }
            var readable = true
            if steps.first == .silent {
                steps.removeFirst()
                readable = false
            }
            record(.opened(openAttempts))
            return try ScriptedPCM(device: self, number: openAttempts, readable: readable)
        }
    }

    // MARK: What happened

    var events: [Event] { lock.withLock { log.map(\.event) } }
    var timedEvents: [(event: Event, uptime: UInt64)] { lock.withLock { log } }
    var framesDelivered: Int { lock.withLock { frameIndex } }
    var opens: Int { events.filter { if case .opened = $0 { true } else { false } }.count }
    var closes: Int { events.filter { if case .closed = $0 { true } else { false } }.count }
    var restarts: Int { events.filter { $0 == .restarted }.count }
    var resumeAttempts: Int { events.filter { if case .resumed = $0 { true } else { false } }.count }
    /// Steps not yet taken (the current `frames` step counts until its last frame is read).
    var remainingSteps: Int { lock.withLock { steps.count } }
    var scriptDone: Bool { remainingSteps == 0 }

    /// Uptime of the first event matching `predicate` (after skipping `skipping` matches).
    func uptime(of predicate: (Event) -> Bool, skipping: Int = 0) -> UInt64? {
        lock.withLock { log.filter { predicate($0.event) }.dropFirst(skipping).first?.uptime }
    }

    // MARK: Called by ScriptedPCM (on the capture thread)

    fileprivate func read(_ pcm: ScriptedPCM, into buffer: UnsafeMutableRawPointer, frames: Int) -> Int {
        lock.withLock {
            guard let step = steps.first else {
                // The script is over: the device goes quiet (the test stops the capture).
                pcm.setReadable(false)
                return -Int(EAGAIN)
            }
            switch step {
            case .frames(let count):
                let n = min(count, frames)
                let out = buffer.bindMemory(to: Int16.self, capacity: n * channels)
                for frame in 0..<n {
                    for channel in 0..<channels {
                        out[frame * channels + channel] = Self.ramp(frameIndex + frame).littleEndian
                    }
                }
                frameIndex += n
                if n == count { steps.removeFirst() } else { steps[0] = .frames(count - n) }
                record(.delivered(n))
                return n
            case .error(let code):
                steps.removeFirst()
                record(.failed(-code))
                return -Int(code)
            case .stall(let seconds):
                steps.removeFirst()
                pcm.stall(seconds: seconds)
                return -Int(EAGAIN)
            case .silent:
                steps.removeFirst()
                pcm.setReadable(false)
                return -Int(EAGAIN)
            }
        }
    }

    fileprivate func nextResumeAnswer() -> Int32 {
        lock.withLock {
            let answer = resumeAnswers.isEmpty ? 0 : resumeAnswers.removeFirst()
            record(.resumed(answer))
            return answer
        }
    }

    fileprivate func note(_ event: Event) {
        lock.withLock { record(event) }
    }

    private func record(_ event: Event) {
        log.append((event, DispatchTime.now().uptimeNanoseconds))
    }
}

/// One open of a `ScriptedDevice`. Its one poll descriptor is the read end of a pipe holding a
/// byte while the PCM is readable (so poll() returns at once) and emptied while it is not.
final class ScriptedPCM: CapturePCM, @unchecked Sendable {
    let parameters: ALSAStreamParameters
    let pollDescriptorCount = 1
    private let device: ScriptedDevice
    private let number: Int
    private let readEnd: Int32
    private let writeEnd: Int32
    /// Guards `readable` and `closed`, which a stall's timer also touches.
    private let lock = NSLock()
    private var readable = false
    private var closed = false

    fileprivate init(device: ScriptedDevice, number: Int, readable: Bool) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw AudioInputError(.io, source: "scripted PCM", "pipe: \(errno)") }
        for fd in ends { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        readEnd = ends[0]
        writeEnd = ends[1]
        self.device = device
        self.number = number
        parameters = device.parameters
        setReadable(readable)
    }

    deinit { close() }

    func fillPollDescriptors(_ fds: UnsafeMutablePointer<pollfd>) throws {
        fds[0] = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
    }

    func events(_ fds: UnsafeMutablePointer<pollfd>) throws -> Int32 {
        Int32(fds[0].revents)
    }

    func read(into buffer: UnsafeMutableRawPointer, frames: Int) -> Int {
        device.read(self, into: buffer, frames: frames)
    }

    func restart() throws {
        device.note(.restarted)
    }

    /// Like `ALSADevice.resume`: tries again while the answer is -EAGAIN, calling `wait` between
    /// tries and giving up when it returns false.
    func resume(wait: () -> Bool) throws {
        while device.nextResumeAnswer() == -EAGAIN {
            guard wait() else { return }
        }
    }

    func close() {
        let closing = lock.withLock {
            guard !closed else { return false }
            closed = true
            Glibc.close(readEnd)
            Glibc.close(writeEnd)
            return true
        }
        if closing { device.note(.closed(number)) }
    }

    fileprivate func setReadable(_ wanted: Bool) {
        lock.withLock {
            guard !closed, wanted != readable else { return }
            var byte: UInt8 = 1
            if wanted {
                _ = write(writeEnd, &byte, 1)
            } else {
                _ = Glibc.read(readEnd, &byte, 1)
            }
            readable = wanted
        }
    }

    fileprivate func stall(seconds: Double) {
        setReadable(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in setReadable(true) }
    }
}
