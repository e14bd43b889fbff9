import Review
/// `/`: which cases to step through.
final class FilterMenu: ModalPanel {
    private let items: [(String, CaseFilter)]
    private var selected = 0
    private let onPick: (CaseFilter) -> Void

    /// `labelsHidden`: a blind read, where nothing that depends on the dataset label is offered; `team`: the split
    /// has two or more readers (and the reader may see them), so "readers disagree" is offered.
    init(classes: [String], current: CaseFilter, labelsHidden: Bool = false, team: Bool = false,
         onPick: @escaping (CaseFilter) -> Void) {
        var items: [(String, CaseFilter)] = [("all cases", .all)]
        if !labelsHidden { items.append(("disagreements (model ≠ label)", .disagreements)) }
        items += [("unreviewed", .unreviewed), ("flagged", .flagged)]
        if !labelsHidden { items += [("relabelled", .relabelled), ("likely label errors first", .likelyLabelErrors)] }
        if team && !labelsHidden { items.append(("readers disagree", .disputed)) }
        for (k, name) in classes.enumerated() { items.append(("\(labelsHidden ? "my label" : "label"): \(name)", .truthClass(k))) }
        self.items = items
        self.onPick = onPick
        selected = items.firstIndex { $0.1 == current } ?? 0
    }

    func draw(_ ctx: DrawContext, screen: Rect) {
        let c = ctx.curses, p = ctx.palette
        let width = min(screen.width, 40)
        let height = min(screen.height, items.count + 2)
        let rect = Rect(row: max(0, (screen.height - height) / 2), col: max(0, (screen.width - width) / 2), width: width, height: height)
        c.box(rect, title: "Filter · ⏎ apply · esc", p)
        let rows = rect.height - 2
        let first = max(0, min(selected - rows + 1, items.count - rows))
        for (i, item) in items.enumerated() where i >= first && i - first < rows {
            let row = rect.row + 1 + i - first
            let bg = i == selected ? p.selection : p.surface
            c.put(row, rect.col + 1, fit(" " + item.0, rect.width - 2), p.style(p.text, bold: i == selected, bg: bg))
        }
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome {
        switch key {
        case .up, .char("k"): selected = max(0, selected - 1)
        case .down, .char("j"): selected = min(items.count - 1, selected + 1)
        case .home: selected = 0
        case .end: selected = items.count - 1
        case .enter: onPick(items[selected].1); return .close
        case .escape, .char("q"), .char("/"): return .close
        default: break
        }
        return .handled
    }
}
