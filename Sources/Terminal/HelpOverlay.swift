/// `?`: every key, grouped, from the key table (so it shows the user's remapped keys).
final class HelpOverlay: ModalPanel {
    let sections: [(String, [(String, String)])]
    /// The widest key plus one space, so a key never runs into its description.
    let keyWidth: Int

    init(keys: KeyTable) {
        sections = KeyTable.groups.map { group in
            (group, keys.bindings.filter { $0.group == group }.map { (keys.label($0.action), $0.help) })
        }
        keyWidth = min(12, (sections.flatMap { $0.1 }.map { $0.0.count }.max() ?? 4) + 1)
    }

    /// One line of the overlay: a section title, or a key and what it does.
    private enum Line { case title(String), key(String, String) }

    func draw(_ ctx: DrawContext, screen: Rect) {
        let c = ctx.curses, p = ctx.palette
        var lines: [Line] = []
        for (title, keys) in sections {
            lines.append(.title(title))
            lines += keys.map { Line.key($0.0, $0.1) }
        }
        // The sections flow down as many columns as the width allows; what still does not fit is counted.
        let rows = max(1, screen.height - 2)
        let minColumn = 34
        let maxColumns = max(1, min(4, (screen.width - 4) / minColumn))
        let columns = min(maxColumns, (lines.count + rows - 1) / rows)
        let perColumn = min(rows, (lines.count + columns - 1) / columns)
        let columnWidth = min(56, (screen.width - 4) / columns)
        let shown = min(lines.count, perColumn * columns)
        let width = columnWidth * columns + 4
        let height = min(screen.height, perColumn + 2)
        let rect = Rect(row: max(0, (screen.height - height) / 2), col: max(0, (screen.width - width) / 2), width: width, height: height)
        let hidden = lines.count - shown
        c.box(rect, title: hidden > 0 ? "Keys · \(hidden) more in docs/keys.md · any key closes" : "Keys · any key closes", p)
        let bg = p.surface
        for (i, line) in lines.prefix(shown).enumerated() {
            let row = rect.row + 1 + i % perColumn
            let x = rect.col + 2 + (i / perColumn) * columnWidth
            switch line {
            case .title(let title):
                c.put(row, x, title.uppercased(), p.style(p.muted, bold: true, bg: bg), maxWidth: columnWidth)
            case .key(let key, let what):
                c.put(row, x + 1, fit(key, keyWidth), p.style(p.accent, bold: true, bg: bg))
                c.put(row, x + 1 + keyWidth, what, p.style(p.text, bg: bg), maxWidth: max(0, columnWidth - keyWidth - 2))
            }
        }
        if hidden > 0 {
            c.put(rect.bottom - 1, rect.right - 12, " \(hidden) more… ", p.style(p.flagged, bold: true, bg: bg))
        }
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome { .close }
}
