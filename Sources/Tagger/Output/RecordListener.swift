/// Takes records as values, beside the `RecordSink` that takes them as lines: outputs that need
/// a record's kind and label (MQTT's per-label states) or their own encoding (MQTT's JSON
/// whatever `output.format` is).
///
/// `receive` is called on the pipeline thread, once per record, in record order, and must not
/// block. `jsonLine` is the record's JSON line (with its origin) when the sink already made one
/// (`output.format: jsonl`), so that a listener that needs it does not encode it again.
public protocol RecordListener: Sendable {
    func receive(_ record: Record, jsonLine: String?)
}
