import Model
/// `c`: pick the corrected label from a menu. The model's prediction is offered first, then the classes by
/// probability; a digit picks that class directly.
final class ClassPicker: ModalPanel {
    private let order: [Int]
    private var selected = 0
    private let onPick: (Int) -> Void

    /// `first`: a class to offer before all others (the label-issue ranking's suggestion).
    init(classCount: Int, prediction: Prediction?, first: Int? = nil, onPick: @escaping (Int) -> Void) {
        var order: [Int]
        if let p = prediction {
            order = Array(0..<classCount).sorted { (p.probabilities[safe: $0] ?? 0) > (p.probabilities[safe: $1] ?? 0) }
        } else {
            order = Array(0..<classCount)
        }
        if let first, let at = order.firstIndex(of: first) { order.remove(at: at); order.insert(first, at: 0) }
        self.order = order
        self.onPick = onPick
    }

    func draw(_ ctx: DrawContext, screen: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        let width = min(screen.width, 44)
        let height = min(screen.height, order.count + 2)
        let rect = Rect(row: max(0, (screen.height - height) / 2), col: max(0, (screen.width - width) / 2), width: width, height: height)
        c.box(rect, title: "Correct label · ⏎ pick · esc", p)
        let prediction = s.currentIndex.flatMap { s.prediction(for: $0) }
        let truth = s.currentIndex.flatMap { s.truths[$0] }
        // Keep the selection visible when the terminal is short.
        let rows = rect.height - 2
        let first = max(0, min(selected - rows + 1, order.count - rows))
        for (i, k) in order.enumerated() where i >= first && i - first < rows {
            let row = rect.row + 1 + i - first
            let isSel = i == selected
            let bg = isSel ? p.selection : p.surface
            c.put(row, rect.col + 1, fit("", rect.width - 2), p.style(p.text, bg: bg))
            c.put(row, rect.col + 2, "\(k)", p.style(p.accent, bold: true, bg: bg))
            c.put(row, rect.col + 4, s.classes[k], p.style(k == truth ? p.truth : p.text, bold: isSel, bg: bg), maxWidth: rect.width - 16)
            var tag = ""
            if k == prediction?.predicted { tag = "model" } else if k == truth { tag = "label" }
            if let prob = prediction?.probabilities[safe: k] { tag += (tag.isEmpty ? "" : " ") + percent(prob) }
            c.put(row, rect.right - tag.count - 2, tag, p.style(k == prediction?.predicted ? p.prediction : p.muted, bg: bg))
        }
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome {
        switch key {
        case .up, .char("k"): selected = max(0, selected - 1)
        case .down, .char("j"): selected = min(order.count - 1, selected + 1)
        case .enter:
            onPick(order[selected]); return .close
        case .escape, .char("q"): return .close
        case .char(let ch):
            if let d = ch.wholeNumberValue, d < order.count { onPick(d); return .close }
        default: break
        }
        return .handled
    }
}
