import Review

/// With `--graphics none` the image pane lists the cases around the current one instead.
struct CaseListPanel: Panel {
    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        guard rect.height >= 2, !s.visible.isEmpty else { return }
        c.put(rect.row, rect.col, " CASES", p.style(p.muted, bold: true), maxWidth: rect.width)
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
                switch d.status {
                case .accepted: mark = "✓"; markColor = p.agree
                case .flagged: mark = "⚑"; markColor = p.flagged
                case .relabelled: mark = "✎"; markColor = p.relabelled
                }
            }
            c.put(row, rect.col + 1, mark, p.style(markColor, bold: true, bg: bg))
            var verdict = ""
            var verdictColor = p.muted
            if let pred = s.prediction(for: index) {
                let agree = s.truths[index] == pred.predicted
                verdict = agree ? "=" : "≠"
                verdictColor = agree ? p.agree : p.disagree
            }
            c.put(row, rect.col + 3, verdict, p.style(verdictColor, bg: bg))
            let name = (kase.relativePath as NSString).lastPathComponent
            c.put(row, rect.col + 5, clipLeft(TerminalSafeText.clean(name), rect.width - 6), p.style(isCurrent ? p.text : p.muted, bold: isCurrent, bg: bg),
                  maxWidth: rect.width - 6)
        }
    }
}

import Foundation
