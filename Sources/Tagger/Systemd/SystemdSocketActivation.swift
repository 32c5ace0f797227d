import Foundation

/// systemd socket activation (sd_listen_fds(3)) without libsystemd: with a `.socket` unit, systemd
/// binds the socket itself and starts the service with it open as file descriptor 3, announced by
/// `LISTEN_FDS` (how many, from 3 on) and `LISTEN_PID` (the process they are meant for, so that a
/// child that inherited the environment does not take them too).
public enum SystemdSocketActivation {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first descriptor systemd passes.
    public static let firstFileDescriptor: CInt = 3

    /// The listening socket systemd passed to this process, or nil when it passed none.
    /// Throws when the variables are malformed or name more than the one socket the tagger serves.
    public static func listeningSocket(environment: [String: String] = ProcessInfo.processInfo.environment,
                                       processID: pid_t = getpid()) throws -> CInt? {
        guard let pidText = environment["LISTEN_PID"], let countText = environment["LISTEN_FDS"] else { return nil }
        guard let pid = pid_t(pidText) else { throw Invalid(description: "LISTEN_PID=\(pidText) is not a process id") }
        guard pid == processID else { return nil }
        guard let count = Int(countText), count >= 0 else {
            throw Invalid(description: "LISTEN_FDS=\(countText) is not a descriptor count")
        }
        switch count {
        case 0: return nil
        case 1: return firstFileDescriptor
        default:
            throw Invalid(description: "systemd passed \(count) sockets (LISTEN_FDS=\(count)); the tagger serves one: "
                + "give its .socket unit a single ListenStream=")
        }
    }
}
