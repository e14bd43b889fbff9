/// `?`: every key, grouped. The same table is in docs/tui.md.
final class HelpOverlay: ModalPanel {
    static let sections: [(String, [(String, String)])] = [
        ("Move", [("← → / j k", "previous / next case"), ("Home End", "first / last case"), ("PgUp PgDn", "back / forward 10")]),
        ("Decide", [("a", "accept: the dataset label is right"), ("f", "flag for relabelling"),
                    ("0–9", "relabel to that class"), ("c", "class picker (model's guess first)"),
                    ("u", "undo last decision"), ("n", "note (flags an unreviewed case)"),
                    ("A", "auto-advance on/off")]),
        ("View", [("g", "X-ray → Grad-CAM → attention → side by side"), ("i", "invert"),
                  ("w W", "narrow / widen window"), ("[ ]", "lower / raise level"),
                  ("+ - =", "zoom in / out / fit"), ("r", "reset window and zoom")]),
        ("Lists", [("/", "filter: all, disagreements, flagged, …"), ("m", "matrix: ←↑↓→, ⏎ filters to a cell"),
                   ("L", "matrix rows: dataset ↔ reviewed labels"), ("e", "export reviewed CSV"),
                   ("t", "next theme"), ("Ctrl-L", "repaint"), ("q", "quit (every decision is already saved)")]),
    ]

    func draw(_ ctx: DrawContext, screen: Rect) {
        let c = ctx.curses, p = ctx.palette
        let lines = HelpOverlay.sections.reduce(0) { $0 + $1.1.count + 1 }
        let width = min(screen.width - 2, 62)
        let height = min(screen.height - 2, lines + 3)
        let rect = Rect(row: max(0, (screen.height - height) / 2), col: max(0, (screen.width - width) / 2), width: width, height: height)
        c.box(rect, title: "Keys · any key closes", p)
        var row = rect.row + 1
        let bg = p.surface
        for (title, keys) in HelpOverlay.sections {
            guard row < rect.bottom - 1 else { break }
            c.put(row, rect.col + 2, title.uppercased(), p.style(p.muted, bold: true, bg: bg), maxWidth: rect.width - 4)
            row += 1
            for (key, what) in keys {
                guard row < rect.bottom - 1 else { break }
                c.put(row, rect.col + 3, fit(key, 11), p.style(p.accent, bold: true, bg: bg), maxWidth: rect.width - 5)
                c.put(row, rect.col + 15, what, p.style(p.text, bg: bg), maxWidth: max(0, rect.width - 17))
                row += 1
            }
        }
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome { .close }
}
