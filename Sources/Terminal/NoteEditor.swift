import Basics
import Foundation
import Imaging

/// `n`: a one-line editor for the case's note. Enter saves, Esc cancels; ←/→, Home/End, Backspace/Delete edit.
final class NoteEditor: ModalPanel {
    private(set) var text: [Character]
    private var cursor: Int
    private let onSave: (String) -> Void
    static let maxLength = 500

    init(initial: String, onSave: @escaping (String) -> Void) {
        text = Array(initial)
        cursor = text.count
        self.onSave = onSave
    }

    func draw(_ ctx: DrawContext, screen: Rect) {
        let c = ctx.curses, p = ctx.palette
        let width = min(screen.width, 72)
        let rect = Rect(row: max(0, screen.height / 2 - 2), col: max(0, (screen.width - width) / 2), width: width, height: 4)
        c.box(rect, title: "Note · ⏎ save · esc cancel", p)
        let inner = rect.width - 4
        guard inner > 2 else { return }
        // Scroll so the cursor stays visible.
        let start = max(0, cursor - inner + 1)
        let visible = String(text[start..<min(text.count, start + inner)])
        let field = p.style(p.text, bg: p.background)
        c.put(rect.row + 1, rect.col + 2, fit("", inner), field)
        c.put(rect.row + 1, rect.col + 2, TerminalSafeText.clean(visible), field, maxWidth: inner)
        let cursorChar = cursor < text.count ? String(text[cursor]) : " "
        c.put(rect.row + 1, rect.col + 2 + cursor - start, TerminalSafeText.clean(cursorChar), Style(fg: p.background, bg: p.accent, reverse: p.monochrome))
        c.put(rect.row + 2, rect.col + 2, "\(text.count)/\(NoteEditor.maxLength)", p.style(p.muted, bg: p.surface))
    }

    /// Pasted text: line breaks and tabs become spaces, other control characters are dropped; nothing is saved.
    func insert(_ pasted: String) {
        for ch in pasted {
            if ch == "\n" || ch == "\r" || ch == "\r\n" || ch == "\t" { type(" ") } else { type(ch) }
        }
    }

    /// A key that came in a burst with others: text and editing only. Enter is a space, so that a pasted line
    /// break never saves the note and runs the rest of the paste as commands.
    func insertFromBurst(_ key: Key) {
        switch key {
        case .enter, .tab: type(" ")
        case .char(let ch): type(ch)
        case .backspace, .delete, .left, .right, .home, .end: _ = apply(key)
        default: break
        }
    }

    private func type(_ ch: Character) {
        guard text.count < NoteEditor.maxLength, ch != "\u{FFFD}",
              ch.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F && !TerminalSafeText.isUnsafe($0) })
        else { return }
        text.insert(ch, at: cursor); cursor += 1
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome { apply(key) }

    private func apply(_ key: Key) -> KeyOutcome {
        switch key {
        case .enter:
            onSave(String(text).trimmingCharacters(in: .whitespaces))
            return .close
        case .escape: return .close
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(text.count, cursor + 1)
        case .home: cursor = 0
        case .end: cursor = text.count
        case .backspace:
            if cursor > 0 { text.remove(at: cursor - 1); cursor -= 1 }
        case .delete:
            if cursor < text.count { text.remove(at: cursor) }
        case .char(let ch): type(ch)
        default: return .handled
        }
        return .handled
    }
}

