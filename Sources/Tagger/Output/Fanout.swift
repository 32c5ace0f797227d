/// Several record listeners as one (MQTT, the metrics, the live page): each gets every record,
/// in order, on the pipeline thread.
public struct RecordListeners: RecordListener {
    public let listeners: [RecordListener]
    public init(_ listeners: [RecordListener]) { self.listeners = listeners }
    public func receive(_ record: Record, jsonLine: String?) {
        for listener in listeners { listener.receive(record, jsonLine: jsonLine) }
    }
}

/// Several pipeline observers as one.
public struct PipelineObservers: PipelineObserver {
    public let observers: [PipelineObserver]
    public init(_ observers: [PipelineObserver]) { self.observers = observers }
    public func frame(_ mel: UnsafeBufferPointer<Float>) { for observer in observers { observer.frame(mel) } }
    public func window(_ result: WindowResult) { for observer in observers { observer.window(result) } }
}
