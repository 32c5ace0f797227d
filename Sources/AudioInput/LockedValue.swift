import Foundation

/// A value written by a capture thread and read by anyone (`lastError`, negotiated parameters).
/// Touched only on events, never per period, so a lock costs nothing that matters.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
