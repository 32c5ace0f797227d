import CStandardDescriptors

/// Standard descriptors the caller closed (`run >&-`, `<&-`). They hold /dev/null from before
/// main (CStandardDescriptors), so no internal descriptor takes their number; a command that
/// needs one refuses to run rather than read nothing or write records nowhere.
enum StandardDescriptors {
    static let closedAtStart = mast_closed_standard_descriptors()

    static func requireOpen(input: Bool, output: Bool) throws {
        if input && closedAtStart & 1 != 0 {
            throw Closed(description: "standard input was closed at start; there is nothing to read (--input stdin)")
        }
        if output && closedAtStart & 2 != 0 {
            throw Closed(description: "standard output was closed at start; records would be lost (use --output unix:PATH, or redirect it)")
        }
    }

    struct Closed: Error, CustomStringConvertible {
        let description: String
    }
}
