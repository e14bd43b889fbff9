import CNcursesw

/// A key press, decoded from ncurses' wide-character input.
public enum Key: Equatable, Sendable {
    case char(Character)
    case left, right, up, down, home, end, pageUp, pageDown
    case enter, escape, backspace, delete, tab, resize
    case other(Int32)

    init(functionKey code: Int32) {
        switch code {
        case KEY_LEFT: self = .left
        case KEY_RIGHT: self = .right
        case KEY_UP: self = .up
        case KEY_DOWN: self = .down
        case KEY_HOME: self = .home
        case KEY_END: self = .end
        case KEY_PPAGE: self = .pageUp
        case KEY_NPAGE: self = .pageDown
        case KEY_ENTER: self = .enter
        case KEY_BACKSPACE: self = .backspace
        case KEY_DC: self = .delete
        case KEY_RESIZE: self = .resize
        default: self = .other(code)
        }
    }

    init(character: wint_t) {
        switch character {
        case 10, 13: self = .enter
        case 27: self = .escape
        case 8, 127: self = .backspace
        case 9: self = .tab
        default:
            if let scalar = Unicode.Scalar(UInt32(character)) { self = .char(Character(scalar)) } else { self = .other(Int32(character)) }
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
