import Basics
import Imaging

/// Adjudication: every reader's answer and note for the current case side by side, with the dataset label, the
/// model and the adjudication so far. Drawn where the matrix goes (`m` still shows the matrix).
struct ReadersPanel: Panel {
    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        guard rect.height >= 2, rect.width >= 20, let index = s.currentIndex, let kase = s.current else { return }
        let reads = s.team.reads[kase.relativePath] ?? []
        var row = rect.row
        c.put(row, rect.col, "Readers (\(reads.count))\(s.team.isDisputed(kase.relativePath) ? " · disagree" : "")",
              p.style(p.accent, bold: true), maxWidth: rect.width)
        row += 1
        func name(_ k: Int?) -> String { k.map { $0 < s.classes.count ? s.classes[$0] : "class \($0)" } ?? "⚑ flagged" }
        let nameWidth = min(12, max(7, (reads.map { $0.reviewer.count }.max() ?? 7))) // "settled" fits
        let classWidth = min(22, max(10, rect.width / 2 - nameWidth))
        for d in reads where row < rect.bottom - 1 {
            var col = rect.col
            col += c.put(row, col, fit(TerminalSafeText.clean(d.reviewer), nameWidth) + " ", p.style(p.text, bold: true))
            col += c.put(row, col, fit(name(d.decidedClass), classWidth) + " ",
                         p.style(d.status == .flagged ? p.flagged : p.relabelled, bold: true))
            col += c.put(row, col, d.readMode == .open ? "open " : "blind ", p.style(p.muted))
            if !d.note.isEmpty {
                c.put(row, col, "“" + TerminalSafeText.clean(d.note) + "”", p.style(p.muted), maxWidth: max(0, rect.right - col))
            }
            row += 1
        }
        if reads.isEmpty && row < rect.bottom {
            c.put(row, rect.col, "no reader has read this case", p.style(p.muted), maxWidth: rect.width)
            row += 1
        }
        guard row < rect.bottom else { return }
        var col = rect.col
        col += c.put(row, col, fit("label", nameWidth) + " ", p.style(p.muted))
        col += c.put(row, col, s.truths[index].map { name($0) } ?? "unlabelled", p.style(p.truth, bold: true), maxWidth: rect.right - col)
        row += 1
        if row < rect.bottom, let a = s.team.adjudications[kase.relativePath] {
            col = rect.col
            col += c.put(row, col, fit("settled", nameWidth) + " ", p.style(p.muted))
            c.put(row, col, "\(name(a.decidedClass)) by \(TerminalSafeText.clean(a.reviewer))", p.style(p.agree, bold: true),
                  maxWidth: rect.right - col)
        }
    }
}
