import Basics
import Foundation
import Imaging

/// The cases around the current one, with each one's state: beside the image on wide terminals, and in place of
/// the image with `--graphics none`. Its title names the filter and the position.
struct CaseListPanel: Panel {
    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        guard rect.height >= 2, !s.visible.isEmpty else { return }
        let title = " CASES · \(s.filter.title(classes: s.classes)) · \(s.position + 1)/\(s.visible.count)"
        c.put(rect.row, rect.col, title, p.style(p.muted, bold: true), maxWidth: rect.width)
        let rows = rect.height - 1
        let first = max(0, min(s.position - rows / 2, s.visible.count - rows))
        for i in 0..<rows {
            let pos = first + i
            guard pos < s.visible.count else { break }
            let index = s.visible[pos]
            let kase = s.cases[index]
            let row = rect.row + 1 + i
            let isCurrent = pos == s.position
            let bg = isCurrent ? p.selection : p.background
            c.put(row, rect.col, fit("", rect.width), p.style(p.text, bg: bg))
            var mark = " ", markColor = p.muted
            if let d = s.decision(for: index) {
                switch s.labelsHidden && d.status != .flagged ? .relabelled : d.status {
                case .accepted: mark = "✓"; markColor = p.agree
                case .flagged: mark = "⚑"; markColor = p.flagged
                case .relabelled: mark = "✎"; markColor = p.relabelled
                }
            }
            c.put(row, rect.col + 1, mark, p.style(markColor, bold: true, bg: bg))
            var verdict = ""
            var verdictColor = p.muted
            if let pred = s.prediction(for: index), !s.labelsHidden {
                let agree = s.truths[index] == pred.predicted
                verdict = agree ? "=" : "≠"
                verdictColor = agree ? p.agree : p.disagree
            }
            c.put(row, rect.col + 3, verdict, p.style(verdictColor, bg: bg))
            let name = kase.shortName
            // The start of the name (the source X-ray in Roboflow names; cut with "…").
            c.put(row, rect.col + 5, TerminalSafeText.clean(name), p.style(isCurrent ? p.text : p.muted, bold: isCurrent, bg: bg),
                  maxWidth: rect.width - 6)
        }
    }
}

