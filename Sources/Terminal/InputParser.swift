/// One thing the terminal sent: a key, a bracketed paste, or a sequence the parser recognised as complete but
/// does not know (dropped, and reported on the status line).
public enum InputEvent: Equatable, Sendable {
    case key(Key)
    /// The text between `ESC [ 200 ~` and `ESC [ 201 ~`. A paste is text for the note editor, never a command.
    case paste(String)
    /// A complete but unknown sequence, described in printable ASCII (e.g. "ESC [ 9 9 X").
    case unknown(String)
}

/// Turns the terminal's byte stream into complete events (xterm's ctlseqs): CSI and SS3 sequences in both cursor
/// modes, OSC/DCS/APC/PM strings (consumed up to their terminator), bracketed paste, UTF-8 text and C0 keys.
/// Bytes may arrive split anywhere; `feed` keeps what is incomplete until more comes or `flush` is called
/// (the reader calls it when the escape delay passes with nothing more). Every buffer is bounded.
public struct InputParser: Sendable {
    /// Longest CSI/SS3 sequence kept; longer ones are dropped as unknown (real ones are under 20 bytes).
    static let maxSequence = 64
    /// Longest OSC/DCS string or paste kept; the rest is discarded until its terminator.
    public static let maxPaste = 64 * 1024

    private enum State: Sendable {
        case ground
        case escape                    // ESC seen
        case csi([UInt8])              // ESC [ and its bytes so far
        case overlongCSI               // a CSI past maxSequence: the rest is discarded up to its final byte
        case ss3                       // ESC O
        case string(escapeSeen: Bool)  // OSC / DCS / APC / PM / SOS: consumed up to BEL or ESC \
        case paste([UInt8], overflow: Bool)
    }

    private var state: State = .ground
    /// A UTF-8 character's bytes so far.
    private var utf8: [UInt8] = []

    public init() {}

    /// True while a sequence, string, paste or character is incomplete.
    public var isPending: Bool {
        if case .ground = state { return !utf8.isEmpty }
        return true
    }

    /// True while inside a bracketed paste (the reader then waits for its end rather than flushing).
    public var inPaste: Bool {
        if case .paste = state { return true }
        return false
    }

    public mutating func feed(_ bytes: [UInt8]) -> [InputEvent] {
        var events: [InputEvent] = []
        for b in bytes { step(b, &events) }
        return events
    }

    /// Ends whatever is pending: a lone ESC is the Escape key; a cut-off sequence or paste is reported.
    public mutating func flush() -> [InputEvent] {
        var events: [InputEvent] = []
        switch state {
        case .ground: break
        case .escape: events.append(.key(.escape))
        case .csi(let body): events.append(.unknown("ESC [ " + Self.describe(body) + " (cut off)"))
        case .overlongCSI: break // already reported
        case .ss3: events.append(.unknown("ESC O (cut off)"))
        case .string: events.append(.unknown("terminal string (cut off)"))
        case .paste(let body, _): events.append(.paste(Self.decode(body)))
        }
        state = .ground
        if !utf8.isEmpty { utf8 = []; events.append(.unknown("incomplete UTF-8")) }
        return events
    }

    private mutating func step(_ b: UInt8, _ events: inout [InputEvent]) {
        switch state {
        case .ground:
            ground(b, &events)
        case .escape:
            switch b {
            case UInt8(ascii: "["): state = .csi([])
            case UInt8(ascii: "O"): state = .ss3
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "_"), UInt8(ascii: "^"), UInt8(ascii: "X"):
                state = .string(escapeSeen: false)
            case 0x1B:
                // ESC ESC: the first is a lone Escape; the second may start a sequence.
                events.append(.key(.escape)); state = .escape
            default:
                // Alt+key or an unknown two-byte escape: never the key itself.
                state = .ground
                events.append(.unknown("ESC " + Self.describe([b])))
            }
        case .csi(var body):
            if b >= 0x40 && b <= 0x7E {
                state = .ground
                if let event = csiEvent(body, final: b) { events.append(event) }
            } else if b >= 0x20 && b <= 0x3F && body.count < Self.maxSequence {
                body.append(b); state = .csi(body)
            } else if b >= 0x20 && b <= 0x3F {
                state = .overlongCSI
                events.append(.unknown("ESC [ " + Self.describe(body) + " (over-long)"))
            } else {
                // A control byte or an over-long sequence: drop what we have, then read the byte afresh.
                state = .ground
                events.append(.unknown("ESC [ " + Self.describe(body) + " (malformed)"))
                if b == 0x1B { state = .escape } else if b >= 0x40 || b < 0x20 { ground(b, &events) }
            }
        case .overlongCSI:
            if b >= 0x20 && b <= 0x3F { break }
            state = .ground
            if b < 0x20 || b > 0x7E { ground(b, &events) } // a control byte ends it and is read afresh
        case .ss3:
            state = .ground
            switch b {
            case UInt8(ascii: "A"): events.append(.key(.up))
            case UInt8(ascii: "B"): events.append(.key(.down))
            case UInt8(ascii: "C"): events.append(.key(.right))
            case UInt8(ascii: "D"): events.append(.key(.left))
            case UInt8(ascii: "H"): events.append(.key(.home))
            case UInt8(ascii: "F"): events.append(.key(.end))
            case UInt8(ascii: "M"): events.append(.key(.enter)) // keypad Enter in application keypad mode
            default: events.append(.unknown("ESC O " + Self.describe([b])))
            }
        case .string(let escapeSeen):
            if b == 0x07 || (escapeSeen && b == UInt8(ascii: "\\")) {
                state = .ground
                events.append(.unknown("terminal string"))
            } else {
                state = .string(escapeSeen: b == 0x1B)
            }
        case .paste(var body, let overflow):
            body.append(b)
            let end: [UInt8] = [0x1B, 0x5B, 0x32, 0x30, 0x31, 0x7E] // ESC [ 2 0 1 ~
            if body.count >= end.count, Array(body.suffix(end.count)) == end {
                body.removeLast(end.count)
                if body.count > Self.maxPaste { body.removeSubrange(Self.maxPaste...) }
                state = .ground
                events.append(.paste(Self.decode(body)))
                if overflow { events.append(.unknown("paste over \(Self.maxPaste / 1024) KiB (cut)")) }
            } else if body.count > Self.maxPaste + end.count {
                // Keep the tail so the end marker is still found; the text beyond the cap is lost.
                body.removeSubrange(Self.maxPaste..<(body.count - end.count))
                state = .paste(body, overflow: true)
            } else {
                state = .paste(body, overflow: overflow)
            }
        }
    }

    private mutating func ground(_ b: UInt8, _ events: inout [InputEvent]) {
        if !utf8.isEmpty || b >= 0x80 {
            text(b, &events); return
        }
        switch b {
        case 0x1B: state = .escape
        case 0x0D, 0x0A: events.append(.key(.enter))
        case 0x09: events.append(.key(.tab))
        case 0x08, 0x7F: events.append(.key(.backspace))
        case 0x03, 0x0C: events.append(.key(.char(Character(Unicode.Scalar(b))))) // Ctrl-C quits, Ctrl-L repaints
        case 0x00..<0x20: events.append(.unknown("Ctrl-" + String(UnicodeScalar(b + 0x40))))
        default: events.append(.key(.char(Character(Unicode.Scalar(b)))))
        }
    }

    /// Collects one UTF-8 character; a malformed one is reported, and the byte that broke it is read afresh.
    private mutating func text(_ b: UInt8, _ events: inout [InputEvent]) {
        if utf8.isEmpty {
            guard Self.utf8Length(lead: b) > 1 else { events.append(.unknown("invalid UTF-8")); return }
            utf8 = [b]; return
        }
        guard b & 0xC0 == 0x80 else {
            utf8 = []
            events.append(.unknown("invalid UTF-8"))
            ground(b, &events)
            return
        }
        utf8.append(b)
        guard utf8.count == Self.utf8Length(lead: utf8[0]) else { return }
        let bytes = utf8
        utf8 = []
        // The standard library validates (overlong forms, surrogates, > U+10FFFF).
        if let s = String(validating: bytes, as: UTF8.self), let ch = s.first, s.count == 1 {
            events.append(.key(.char(ch)))
        } else {
            events.append(.unknown("invalid UTF-8"))
        }
    }

    private static func utf8Length(lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// The key a complete CSI sequence stands for; nil when it opens a bracketed paste (the state moves on).
    private mutating func csiEvent(_ body: [UInt8], final: UInt8) -> InputEvent? {
        let params = String(decoding: body, as: UTF8.self)
        // Modifiers (e.g. "1;5C", Ctrl+Right) keep the key: a modified arrow still moves.
        let first = params.split(separator: ";", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let plain = params.isEmpty || (first == "1" && params.allSatisfy { $0.isNumber || $0 == ";" })
        // Shift (modifier 2) with an arrow is its own key; other modifiers keep the plain arrow.
        if params == "1;2" {
            switch final {
            case UInt8(ascii: "A"): return .key(.shiftUp)
            case UInt8(ascii: "B"): return .key(.shiftDown)
            case UInt8(ascii: "C"): return .key(.shiftRight)
            case UInt8(ascii: "D"): return .key(.shiftLeft)
            default: break
            }
        }
        switch final {
        case UInt8(ascii: "A") where plain: return .key(.up)
        case UInt8(ascii: "B") where plain: return .key(.down)
        case UInt8(ascii: "C") where plain: return .key(.right)
        case UInt8(ascii: "D") where plain: return .key(.left)
        case UInt8(ascii: "H") where plain: return .key(.home)
        case UInt8(ascii: "F") where plain: return .key(.end)
        case UInt8(ascii: "~") where params.allSatisfy({ $0.isNumber || $0 == ";" }):
            switch first {
            case "1", "7": return .key(.home)
            case "4", "8": return .key(.end)
            case "3": return .key(.delete)
            case "5": return .key(.pageUp)
            case "6": return .key(.pageDown)
            case "200":
                state = .paste([], overflow: false)
                return nil
            default: break
            }
        default: break
        }
        return .unknown("ESC [ " + Self.describe(body + [final]))
    }

    /// Bytes as printable ASCII, one token per byte ("ESC", "0x9b", "A").
    static func describe(_ bytes: [UInt8]) -> String {
        bytes.prefix(24).map { b -> String in
            switch b {
            case 0x1B: return "ESC"
            case 0x21...0x7E: return String(UnicodeScalar(b))
            default: return "0x" + (b < 0x10 ? "0" : "") + String(b, radix: 16)
            }
        }.joined(separator: " ") + (bytes.count > 24 ? " …" : "")
    }

    /// A paste's bytes as text: invalid UTF-8 becomes U+FFFD, which the note editor's filter keeps out of notes.
    static func decode(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
