/// `?`: every key, grouped. The same table is in docs/tui.md.
final class HelpOverlay: ModalPanel {
    static let sections: [(String, [(String, String)])] = [
        ("Move", [("← → / j k", "previous / next case"), ("Home End", "first / last case"), ("PgUp PgDn", "back / forward 10")]),
        ("Decide", [("a", "accept the dataset label"), ("f", "flag for relabelling"),
                    ("0–9", "relabel to that class"), ("c", "class menu (model's first)"),
                    ("u", "undo last decision"), ("n", "note (flags if undecided)"),
                    ("A", "auto-advance on/off")]),
        ("View", [("g", "X-ray / CAM / attention"), ("i", "invert"), ("b", "label boxes on/off"),
                  ("w W", "narrow / widen window"), ("[ ]", "lower / raise level"),
                  ("+ - =", "zoom in / out / fit"), ("r", "reset window and zoom")]),
        ("Lists", [("/", "filter: disagreements, …"), ("m", "matrix: arrows, ⏎ filters"),
                   ("L", "matrix: dataset/reviewed"), ("S", "matrix: seen cases in/out"),
                   ("e", "export reviewed CSV"),
                   ("t", "next theme"), ("Ctrl-L", "repaint"), ("q", "quit (all saved already)")]),
    ]

    /// The widest key plus one space, so a key never runs into its description.
    static let keyWidth = sections.flatMap { $0.1 }.map { $0.0.count }.max()! + 1

    func draw(_ ctx: DrawContext, screen: Rect) {
        let c = ctx.curses, p = ctx.palette
        let sections = HelpOverlay.sections, keyWidth = HelpOverlay.keyWidth
        func lines(_ s: ArraySlice<(String, [(String, String)])>) -> Int { s.reduce(0) { $0 + $1.1.count + 1 } }
        // One column when it fits, else two (80×24 shows every key).
        let twoColumns = lines(sections[...]) + 2 > screen.height && screen.width >= 70
        let columns: [ArraySlice<(String, [(String, String)])>] = twoColumns ? [sections[0..<2], sections[2...]] : [sections[...]]
        let columnWidth = twoColumns ? min(46, (screen.width - 4) / 2) : min(screen.width - 4, 60)
        let width = columnWidth * columns.count + 4
        let height = min(screen.height, (columns.map { lines($0) }.max() ?? 0) + 2)
        let rect = Rect(row: max(0, (screen.height - height) / 2), col: max(0, (screen.width - width) / 2), width: width, height: height)
        c.box(rect, title: "Keys · any key closes", p)
        let bg = p.surface
        for (ci, column) in columns.enumerated() {
            var row = rect.row + 1
            let x = rect.col + 2 + ci * columnWidth
            for (title, keys) in column {
                guard row < rect.bottom - 1 else { break }
                c.put(row, x, title.uppercased(), p.style(p.muted, bold: true, bg: bg), maxWidth: columnWidth)
                row += 1
                for (key, what) in keys {
                    guard row < rect.bottom - 1 else { break }
                    c.put(row, x + 1, fit(key, keyWidth), p.style(p.accent, bold: true, bg: bg))
                    c.put(row, x + 1 + keyWidth, what, p.style(p.text, bg: bg), maxWidth: max(0, columnWidth - keyWidth - 2))
                    row += 1
                }
            }
        }
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome { .close }
}
