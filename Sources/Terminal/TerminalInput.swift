import CTerminal
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var resizeRequested: sig_atomic_t = 0

/// The bytes of one burst, parsed: everything the terminal sent together, as one read plus whatever followed
/// within a few milliseconds. A person's key presses come at least tens of milliseconds apart, so a burst of
/// several events is a paste, a typed-ahead queue or noise, and never a decision (see `ReviewApp.handle`).
public struct InputBurst: Equatable, Sendable {
    public var events: [InputEvent]
    /// A single event that arrived on its own: the only kind that may make a decision.
    public var isAlone: Bool { events.count == 1 }
}

/// Reads the terminal itself (ncurses' own key decoding is off): complete sequences, bracketed paste and
/// SIGWINCH, with every buffer bounded.
public final class TerminalInput {
    /// How long a lone ESC waits for the rest of a sequence (ncurses' ESCDELAY was set to the same).
    static let escapeDelayMs: Int32 = 25
    /// Bytes that follow within this time belong to the same burst.
    static let burstWindowMs: Int32 = 3
    /// How long a bracketed paste may pause before it is taken as ended.
    static let pasteStallMs: Int32 = 300
    /// Most bytes read into one burst; a flood is handed out in pieces (each of them still a burst).
    static let maxBurstBytes = 256 * 1024

    private let fd: Int32
    private var parser = InputParser()
    public private(set) var closed = false

    public init(fd: Int32 = STDIN_FILENO) { self.fd = fd }

    /// Catches SIGWINCH before ncurses starts, so that ncurses leaves the signal to us (it only takes a default one).
    public static func installResizeHandler() {
        signal(SIGWINCH) { _ in resizeRequested = 1 }
    }

    /// Waits up to `timeoutMs` for input; returns the next burst, or an empty one if nothing came.
    public func next(timeoutMs: Int32) -> InputBurst {
        if resizeRequested != 0 { resizeRequested = 0; return InputBurst(events: [.key(.resize)]) }
        guard !closed, wait(timeoutMs) else {
            if resizeRequested != 0 { resizeRequested = 0; return InputBurst(events: [.key(.resize)]) }
            return InputBurst(events: [])
        }
        var events: [InputEvent] = []
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while total < Self.maxBurstBytes {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { if !wait(Self.burstWindowMs) { break }; continue }
            if n <= 0 { closed = true; break } // EOF: the terminal is gone
            total += n
            events += parser.feed(Array(buffer[0..<n]))
            let patience = parser.inPaste ? Self.pasteStallMs : parser.isPending ? Self.escapeDelayMs : Self.burstWindowMs
            if !wait(patience) { break }
        }
        if parser.isPending && (total < Self.maxBurstBytes || closed) { events += parser.flush() }
        return InputBurst(events: events)
    }

    /// True when input is ready within `ms`.
    private func wait(_ ms: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, ms)
        return r > 0 && (p.revents & Int16(POLLIN | POLLHUP)) != 0
    }
}
