/// Several record listeners as one (MQTT, the metrics, the live page): each gets every record,
/// in order, on the pipeline thread.
public struct RecordListeners: RecordListener {
    public let listeners: [RecordListener]
    public init(_ listeners: [RecordListener]) { self.listeners = listeners }
    public func receive(_ record: Record, jsonLine: String?) {
        for listener in listeners { listener.receive(record, jsonLine: jsonLine) }
    }
}

/// Several window observers as one.
public struct WindowObservers: WindowObserver {
    public let observers: [WindowObserver]
    public init(_ observers: [WindowObserver]) { self.observers = observers }
    public func window(_ result: WindowResult) { for observer in observers { observer.window(result) } }
}
