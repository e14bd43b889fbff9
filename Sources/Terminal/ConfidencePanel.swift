/// One bar per class: the model's probability, with the truth and the prediction marked.
struct ConfidencePanel: Panel {
    let titled: Bool

    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        guard rect.height > 0, let index = s.currentIndex else { return }
        var row = rect.row
        let state = ctx.predictions.state(at: index)
        if titled {
            c.put(row, rect.col, "CONFIDENCE", p.style(p.muted, bold: true))
            let legend = "▌truth  ▶model"
            if rect.width > 30 {
                c.put(row, rect.right - legend.unicodeScalars.count - 1, "▌truth", p.style(p.truth))
                c.put(row, rect.right - 7, "▶model", p.style(p.prediction))
            }
            row += 1
        }
        let truth = s.truths[index]
        let relabel = s.decision(for: index)?.reviewerLabel
        let prediction = state.prediction
        let nameWidth = min(20, max(8, rect.width - 20))
        let barWidth = max(4, rect.width - nameWidth - 10)
        // Bars of the other classes must not look like the prediction's.
        let otherBar = (p.bar.map { $0 == p.prediction ? nil : $0 } ?? nil) ?? p.muted
        // When not every class fits: the label, the prediction, your relabel and the likeliest classes, in class
        // order, and a last row that counts the rest.
        var shown = Array(s.classes.indices)
        let room = rect.bottom - row
        if shown.count > room {
            let keep = max(0, room - 1)
            var chosen = [truth, prediction?.predicted, relabel].compactMap { $0 }.filter { $0 < s.classes.count }
            let byProbability = s.classes.indices.sorted { (prediction?.probabilities[safe: $0] ?? 0) > (prediction?.probabilities[safe: $1] ?? 0) }
            for k in byProbability where !chosen.contains(k) { chosen.append(k) }
            shown = Array(Set(chosen.prefix(keep))).sorted()
        }
        defer {
            if shown.count < s.classes.count, row < rect.bottom {
                c.put(row, rect.col + 3, "… \(s.classes.count - shown.count) more classes", p.style(p.muted))
            }
        }
        for k in shown {
            guard row < rect.bottom else { break }
            let isTruth = k == truth, isPred = k == prediction?.predicted, isRelabel = k == relabel
            let marker = isTruth ? "▌" : (isRelabel ? "✎" : " ")
            c.put(row, rect.col, marker, p.style(isRelabel && !isTruth ? p.relabelled : p.truth, bold: true))
            c.put(row, rect.col + 1, k < 10 ? "\(k)" : " ", p.style(p.muted))
            let nameColor = isTruth ? p.truth : (isPred ? p.prediction : p.text)
            c.put(row, rect.col + 3, fit(s.classes[k], nameWidth), p.style(nameColor, bold: isTruth || isPred))
            let barCol = rect.col + 3 + nameWidth + 1
            if let prob = prediction?.probabilities[safe: k] {
                drawBar(c, row, barCol, barWidth, prob, color: isPred ? p.prediction : (isTruth ? p.truth : otherBar), p)
                c.put(row, barCol + barWidth + 1, (isPred ? "▶" : " ") + pad(percent(prob), 4),
                      p.style(isPred ? p.prediction : p.muted, bold: isPred))
            } else {
                c.put(row, barCol, String(repeating: "·", count: barWidth), p.style(p.barTrack))
            }
            row += 1
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }

    /// A bar with eighth-block resolution on a dim track.
    private func drawBar(_ c: Curses, _ row: Int, _ col: Int, _ width: Int, _ value: Float, color: RGB, _ p: Palette) {
        let eighths = Int((max(0, min(1, value)) * Float(width * 8)).rounded())
        let full = eighths / 8, part = eighths % 8
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var text = String(repeating: "█", count: full)
        if full < width { text += partials[part] }
        c.put(row, col, String(repeating: " ", count: width), Style(fg: color, bg: p.barTrack), maxWidth: width)
        c.put(row, col, text, Style(fg: color, bg: p.barTrack), maxWidth: width)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
