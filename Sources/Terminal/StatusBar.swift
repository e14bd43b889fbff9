/// The bottom line: inference progress as a bar, the review counts, and key hints (or a transient message).
struct StatusBar: Panel {
    var message: String?
    var messageIsError = false
    /// Where the hints come from.
    var keys = KeyTable.standard

    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        let bar = p.style(p.text, bg: p.surface)
        c.fill(rect.row, rect.col, width: rect.width, height: rect.height, bar)
        let row = rect.row
        var col = 1
        let width = rect.width >= 100 ? 16 : (rect.width >= 60 ? 10 : 5)
        // A PACS's downloads first: the model can only run on what has arrived. Shown until every instance is here.
        if let t = ctx.transfer, t.done < t.total || t.failed > 0 {
            let fraction = t.total > 0 ? Double(t.done) / Double(t.total) : 1
            let filled = Int((fraction * Double(width)).rounded(.down))
            col += c.put(row, col, "PACS ", p.style(p.muted, bg: p.surface))
            col += c.put(row, col, String(repeating: "█", count: filled), p.style(p.accent, bg: p.surface))
            col += c.put(row, col, String(repeating: "█", count: width - filled), p.style(p.barTrack, bg: p.surface))
            col += c.put(row, col, " \(t.done)/\(t.total)", p.style(p.text, bg: p.surface))
            if t.failed > 0 { col += c.put(row, col, " ✗\(t.failed)", p.style(p.disagree, bold: true, bg: p.surface)) }
            col += c.put(row, col, "  ", p.style(p.muted, bg: p.surface))
        }
        let (done, total) = ctx.predictions.progress
        if ctx.predictions.hasModel {
            let fraction = total > 0 ? Double(done) / Double(total) : 1
            let filled = Int((fraction * Double(width)).rounded(.down))
            col += c.put(row, col, done < total ? "model " : "model ", p.style(p.muted, bg: p.surface))
            col += c.put(row, col, String(repeating: "█", count: filled), p.style(done < total ? p.accent : p.agree, bg: p.surface))
            col += c.put(row, col, String(repeating: "█", count: width - filled), p.style(p.barTrack, bg: p.surface))
            col += c.put(row, col, " \(done)/\(total)", p.style(done < total ? p.text : p.muted, bg: p.surface))
        } else {
            col += c.put(row, col, "no model", p.style(p.flagged, bold: true, bg: p.surface))
        }
        if case .lost = s.storeState {
            // The one thing that matters while it lasts: nothing typed now is saved.
            col += c.put(row, col, "  ⚠ review database unreachable: decisions refused · reconnecting",
                         p.style(p.disagree, bold: true, bg: p.surface), maxWidth: max(0, rect.width - col))
        }
        let counts = s.counts
        if s.labelsHidden {
            // Blind: accepted/relabelled counts would tell the reader how often they matched the hidden labels.
            col += c.put(row, col, "  blind read", p.style(p.accent, bold: true, bg: p.surface))
            col += c.put(row, col, " ⚑\(counts.flagged)", p.style(p.flagged, bg: p.surface))
        } else {
            if s.role == .adjudicator { col += c.put(row, col, "  adjudicating", p.style(p.accent, bold: true, bg: p.surface)) }
            col += c.put(row, col, "  ✓\(counts.accepted)", p.style(p.agree, bg: p.surface))
            col += c.put(row, col, " ⚑\(counts.flagged)", p.style(p.flagged, bg: p.surface))
            col += c.put(row, col, " ✎\(counts.relabelled)", p.style(p.relabelled, bg: p.surface))
        }
        let team = s.teamProgress
        let caseTotal = s.role == .adjudicator ? s.team.disputed.count : s.cases.count
        if team.readers >= 2 || s.role == .adjudicator || s.labelsHidden {
            col += c.put(row, col, " · you \(team.mine)/\(caseTotal)\(s.role == .adjudicator ? " disputed" : "") · team \(team.readers) reader\(team.readers == 1 ? "" : "s")",
                         p.style(p.muted, bg: p.surface), maxWidth: max(0, rect.width - col))
        } else {
            col += c.put(row, col, " \(counts.reviewed)/\(s.cases.count) reviewed", p.style(p.muted, bg: p.surface),
                         maxWidth: max(0, rect.width - col))
        }
        col += 2
        let hintRow = rect.height >= 2 ? rect.row + 1 : row
        let hintCol = rect.height >= 2 ? 1 : col
        let room = rect.width - hintCol - 1
        guard room > 4 else { return }
        if let message {
            c.put(hintRow, hintCol, message, p.style(messageIsError ? p.disagree : p.accent, bold: true, bg: p.surface),
                  maxWidth: room)
            return
        }
        // A blind reader has no label to accept: the hint would mislead.
        let hints: [(String, String)] = keys.bindings.filter { !(s.labelsHidden && $0.action == .accept) }.compactMap { b in
            b.hint.map { (b.action == .relabel ? "0-9" : (b.keys.first?.symbol ?? "?"), $0) }
        }
        var x = hintCol
        for (key, what) in hints {
            let need = key.count + what.count + 2
            if x + need > hintCol + room { break }
            x += c.put(hintRow, x, key, p.style(p.accent, bold: true, bg: p.surface))
            x += c.put(hintRow, x, " \(what) ", p.style(p.muted, bg: p.surface))
        }
    }
}
