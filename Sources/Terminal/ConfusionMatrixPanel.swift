import Metrics
import Review

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
        let tags = classTags(s.classes, length: 4)
        let labelWidth = 5
        // A recall column ("rec") when there is room for it beside cells of at least 3 columns.
        let recallWidth = rect.width - labelWidth >= n * 3 + 5 ? 5 : 0
        let cellWidth = max(2, min(5, (rect.width - labelWidth - recallWidth) / max(1, n)))
        let maxCount = max(1, matrix.largestCell)
        let critical = CriticalErrorPair.indexPairs(s.classes)
        let criticalRows = Set(critical.map { $0[0] })
        var row = rect.row
        // Overall accuracy over the labelled rows (the unlabelled row has no truth).
        let total = matrix.labelled.total, correct = matrix.labelled.correct
        let accuracy = total > 0 ? " · acc \(Int((Double(correct) / Double(total) * 100).rounded()))% of \(total)" : ""
        if rect.height >= rowCount + 2 || focused {
            // A title row when there is room (always when focused: it carries the keys).
            let title = focused ? "MATRIX ⏎ filter · L labels · S seen · esc" : "CONFUSION"
            c.put(row, rect.col, title, p.style(focused ? p.accent : p.muted, bold: true), maxWidth: rect.width)
            let which = s.matrixLabels == .dataset ? "dataset" : "reviewed"
            let seen = s.matrixSeenCount
            let scope = seen == 0 ? "" : (s.matrixIncludesSeen ? " · incl. \(seen) seen" : " · \(seen) seen left out")
            let sub = focused ? String(accuracy.dropFirst(3)) : "\(which) × model\(scope)\(accuracy)"
            let room = rect.width - (focused ? 42 : 11)
            if room > 8 {
                let shown = sub.unicodeScalars.count <= room ? sub : "\(which) × model\(accuracy)"
                c.put(row, max(rect.col + (focused ? 42 : 11), rect.right - shown.unicodeScalars.count - 1), shown,
                      p.style(p.muted), maxWidth: room)
            }
            row += 1
        }
        guard row < rect.bottom else { return }
        // The rows that fit; when some must go, the critical rows and the cursor's stay, and the count is shown.
        let room = rect.bottom - row - 1
        var shownRows = Array(0..<rowCount)
        if room < rowCount {
            let keep = criticalRows.union(focused ? [min(cursorRow, rowCount - 1)] : [])
            var chosen = Set(keep.filter { $0 < rowCount }.prefix(max(0, room)))
            for r in 0..<rowCount where chosen.count < max(0, room) { chosen.insert(r) }
            shownRows = chosen.sorted()
        }
        let hiddenRows = rowCount - shownRows.count
        // Column header: class digits, and the recall column.
        let corner = hiddenRows > 0 ? "+\(hiddenRows)↕" : (s.matrixLabels == .dataset ? "t\\p" : "r\\p")
        c.put(row, rect.col, fit(corner, labelWidth), p.style(hiddenRows > 0 ? p.flagged : p.muted))
        for k in 0..<n {
            let text = String(k)
            c.put(row, rect.col + labelWidth + k * cellWidth + (cellWidth - text.count), text,
                  p.style(p.prediction, bold: focused && k == cursorCol))
        }
        if recallWidth > 0 { c.put(row, rect.col + labelWidth + n * cellWidth + 1, "rec", p.style(p.muted)) }
        row += 1
        cursorRow = min(cursorRow, rowCount - 1)
        cursorCol = min(cursorCol, n - 1)
        for r in shownRows where row < rect.bottom {
            let tag = r < n ? tags[r] : "∅"
            c.put(row, rect.col, fit(tag, labelWidth), p.style(r < n ? p.truth : p.flagged, bold: focused && r == cursorRow))
            for k in 0..<n {
                let count = matrix[r][k]
                let x = rect.col + labelWidth + k * cellWidth
                let selected = focused && r == cursorRow && k == cursorCol
                let diagonal = r == k
                let isCritical = critical.contains([r, k])
                var bg = p.background
                if count > 0 {
                    // Shade by count: the diagonal in the agree colour, errors in the disagree colour,
                    // the clinically critical confusions always in full strength.
                    let t = 0.35 + 0.5 * Double(count) / Double(maxCount)
                    if isCritical {
                        bg = p.matrixCritical ?? p.disagree
                    } else if diagonal {
                        bg = p.matrixDiagonal.map { p.background.mixed(with: $0, 0.7 + t * 0.35) } ?? p.background.mixed(with: p.agree, t)
                    } else {
                        bg = p.matrixOffDiagonal.map { p.background.mixed(with: $0, 0.7 + t * 0.35) } ?? p.background.mixed(with: p.disagree, t)
                    }
                }
                if selected { bg = p.matrixCursor ?? p.selection }
                // A critical cell with cases carries "!" too, so it is marked without colour (NO_COLOR).
                let text = count > 0 ? (isCritical ? "!" : "") + String(count) : (diagonal ? "·" : " ")
                let cell = String(repeating: " ", count: max(0, cellWidth - text.count)) + text
                // The count's colour carries correct/wrong too (256-colour terminals grey out dark tints).
                var fg = count > 0 ? (isCritical ? p.text : (diagonal ? p.agree : p.disagree)) : p.border
                if selected && p.matrixCursor != nil { fg = p.background }
                c.put(row, x, cell, Style(fg: fg, bg: bg, bold: selected || isCritical || (diagonal && count > 0),
                                          reverse: p.monochrome && (selected || (isCritical && count > 0))),
                      maxWidth: cellWidth)
            }
            if recallWidth > 0, r < n {
                let support = matrix[r].reduce(0, +)
                let recall = support > 0 ? "\(Int((Double(matrix[r][r]) / Double(support) * 100).rounded()))%" : "–"
                c.put(row, rect.col + labelWidth + n * cellWidth + 1, fit(String(repeating: " ", count: max(0, 4 - recall.count)) + recall, 4),
                      p.style(p.muted))
            }
            row += 1
        }
        // The legend of the row tags, when rows are left (else the focused cursor row's name in full).
        var legend: [String] = []
        for (k, name) in s.classes.enumerated() { legend.append("\(tags[k]) \(name)") }
        var lineRow = row
        if lineRow < rect.bottom {
            var line = ""
            for item in legend {
                let next = line.isEmpty ? item : line + " · " + item
                if next.unicodeScalars.count > rect.width - 1 && !line.isEmpty {
                    guard lineRow < rect.bottom else { break }
                    c.put(lineRow, rect.col, line, p.style(p.muted), maxWidth: rect.width)
                    lineRow += 1
                    line = item
                } else {
                    line = next
                }
            }
            if !line.isEmpty && lineRow < rect.bottom { c.put(lineRow, rect.col, line, p.style(p.muted), maxWidth: rect.width) }
        }
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
        case .char("L") where !s.labelsHidden:
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
