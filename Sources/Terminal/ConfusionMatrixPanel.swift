/// The live confusion matrix: rows are labels (dataset or reviewed), columns the model's predictions.
/// It fills in as background inference finishes. Focused with `m`, arrows move a cell cursor and Enter filters to it.
final class ConfusionMatrixPanel: Panel {
    var focused = false
    var cursorRow = 0
    var cursorCol = 0

    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        guard rect.height >= 3, rect.width >= 12 else { return }
        let n = s.classes.count
        let matrix = s.confusionMatrix()
        let hasUnlabelledRow = s.hasUnlabelled && s.matrixLabels == .dataset
        let rowCount = n + (hasUnlabelledRow ? 1 : 0)
        let tags = classTags(s.classes)
        let labelWidth = 4
        let cellWidth = max(2, min(5, (rect.width - labelWidth) / max(1, n)))
        let maxCount = max(1, matrix.flatMap { $0 }.max() ?? 1)
        let critical = ConfusionMatrixPanel.criticalPairs(s.classes)
        var row = rect.row
        if rect.height >= rowCount + 2 || focused {
            // A title row when there is room (always when focused: it carries the keys).
            let title = focused ? "MATRIX ⏎ filter · L labels · S seen · esc" : "CONFUSION"
            c.put(row, rect.col, title, p.style(focused ? p.accent : p.muted, bold: true), maxWidth: rect.width)
            if !focused {
                let which = s.matrixLabels == .dataset ? "dataset" : "reviewed"
                let seen = s.matrixSeenCount
                let scope = seen == 0 ? "" : (s.matrixIncludesSeen ? " · incl. \(seen) seen" : " · \(seen) seen left out")
                let sub = "\(which) × model\(scope)"
                let x = rect.right - sub.unicodeScalars.count - 1
                if x > rect.col + 11 { c.put(row, x, sub, p.style(p.muted)) }
            }
            row += 1
        }
        guard row < rect.bottom else { return }
        // Column header: class digits.
        c.put(row, rect.col, fit(s.matrixLabels == .dataset ? "t\\p" : "r\\p", labelWidth), p.style(p.muted))
        for k in 0..<n {
            let text = String(k)
            c.put(row, rect.col + labelWidth + k * cellWidth + (cellWidth - text.count), text,
                  p.style(p.prediction, bold: focused && k == cursorCol))
        }
        row += 1
        cursorRow = min(cursorRow, rowCount - 1)
        cursorCol = min(cursorCol, n - 1)
        for r in 0..<rowCount where row < rect.bottom {
            let tag = r < n ? tags[r] : "∅"
            c.put(row, rect.col, fit(tag, labelWidth), p.style(r < n ? p.truth : p.flagged, bold: focused && r == cursorRow))
            for k in 0..<n {
                let count = matrix[r][k]
                let x = rect.col + labelWidth + k * cellWidth
                let selected = focused && r == cursorRow && k == cursorCol
                let diagonal = r == k
                var bg = p.background
                if count > 0 {
                    // Shade by count: the diagonal in the agree colour, errors in the disagree colour,
                    // the clinically critical confusions always in full strength.
                    let t = 0.35 + 0.5 * Double(count) / Double(maxCount)
                    if critical.contains([r, k]) {
                        bg = p.matrixCritical ?? p.disagree
                    } else if diagonal {
                        bg = p.matrixDiagonal.map { p.background.mixed(with: $0, 0.7 + t * 0.35) } ?? p.background.mixed(with: p.agree, t)
                    } else {
                        bg = p.matrixOffDiagonal.map { p.background.mixed(with: $0, 0.7 + t * 0.35) } ?? p.background.mixed(with: p.disagree, t)
                    }
                }
                if selected { bg = p.matrixCursor ?? p.selection }
                let text = count > 0 ? String(count) : (diagonal ? "·" : " ")
                let cell = String(repeating: " ", count: max(0, cellWidth - text.count)) + text
                // The count's colour carries correct/wrong too (256-colour terminals grey out dark tints).
                var fg = count > 0 ? (critical.contains([r, k]) ? p.text : (diagonal ? p.agree : p.disagree)) : p.border
                if selected && p.matrixCursor != nil { fg = p.background }
                c.put(row, x, cell, Style(fg: fg, bg: bg, bold: selected || (diagonal && count > 0), reverse: p.monochrome && selected),
                      maxWidth: cellWidth)
            }
            row += 1
        }
    }

    /// [truth, predicted] pairs that are clinically worst: a comminuted fracture called transverse displaced,
    /// a transverse displaced one called healthy.
    static func criticalPairs(_ classes: [String]) -> Set<[Int]> {
        func i(_ name: String) -> Int? { classes.firstIndex { $0.lowercased() == name } }
        var pairs = Set<[Int]>()
        if let a = i("comminuted"), let b = i("transverse displaced") { pairs.insert([a, b]) }
        if let a = i("transverse displaced"), let b = i("healthy") { pairs.insert([a, b]) }
        return pairs
    }

    /// The cell under the cursor as a filter.
    func selectedFilter(_ session: ReviewSession) -> CaseFilter {
        let n = session.classes.count
        return .cell(truth: cursorRow < n ? cursorRow : nil, predicted: cursorCol)
    }

    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome {
        let s = ctx.session
        let n = s.classes.count
        let rows = n + (s.hasUnlabelled && s.matrixLabels == .dataset ? 1 : 0)
        switch key {
        case .left, .char("h"): cursorCol = max(0, cursorCol - 1)
        case .right, .char("l"): cursorCol = min(n - 1, cursorCol + 1)
        case .up, .char("k"): cursorRow = max(0, cursorRow - 1)
        case .down, .char("j"): cursorRow = min(rows - 1, cursorRow + 1)
        case .enter:
            s.setFilter(selectedFilter(s))
            focused = false
        case .char("L"):
            s.matrixLabels = s.matrixLabels == .dataset ? .reviewed : .dataset
            s.refreshFilter()
        case .char("S"): s.matrixIncludesSeen.toggle()
        case .escape, .char("m"): focused = false
        case .char("q"): return .quit
        default: return .ignored
        }
        return .handled
    }
}
