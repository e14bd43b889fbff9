import Terminal

/// The TUI's input parser: the bytes in chunks of varying size (as reads split them), then a flush. It must end
/// in the ground state with at most one event per byte.
enum InputHarness {
    static func run(_ bytes: [UInt8]) {
        var parser = InputParser()
        var events = 0
        var i = 0
        while i < bytes.count {
            let n = 1 + Int(bytes[i] % 7) // chunk sizes from the data itself
            events += parser.feed(Array(bytes[i..<min(bytes.count, i + n)])).count
            i += n
        }
        events += parser.flush().count
        precondition(!parser.isPending, "the parser holds input after flush")
        precondition(events <= bytes.count + 1, "more events than bytes")
    }
}
