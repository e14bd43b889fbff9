/// A key press, decoded from the terminal's bytes by `InputParser`.
public enum Key: Hashable, Sendable {
    case char(Character)
    case left, right, up, down, home, end, pageUp, pageDown
    /// Shift with an arrow (`CSI 1 ; 2 C` …): pans a zoomed image.
    case shiftLeft, shiftRight, shiftUp, shiftDown
    case enter, escape, backspace, delete, tab, resize
    case other(Int32)

    /// Keys that only move (the cursor, the selection or the case): the only keys that act inside a burst.
    public var isCursorKey: Bool {
        switch self {
        case .left, .right, .up, .down, .home, .end, .pageUp, .pageDown, .resize,
             .shiftLeft, .shiftRight, .shiftUp, .shiftDown: return true
        default: return false
        }
    }
}

/// What a key handler did with a key (htop's HANDLED / IGNORED / BREAK_LOOP / REDRAW flags).
public enum KeyOutcome: Equatable, Sendable {
    /// Consumed; redraw as usual.
    case handled
    /// Not for this handler; the next one gets it.
    case ignored
    /// The modal panel is done and closes.
    case close
    /// Repaint everything from scratch (e.g. after a theme change).
    case redraw
    /// Leave the application.
    case quit
}
