import Basics
import Datasets
import Imaging
import Metrics
import Model
import Store

/// Two rows: where we are (index/total, file name, filter), then the verdicts (truth, prediction, agreement, review).
struct CaseHeaderPanel: Panel {
    /// The method whose map the pointing-game mark judges: the one the reviewer has chosen (`M`).
    var camMethod = CAMMethod.preferred

    func draw(_ ctx: DrawContext, in rect: Rect) {
        let c = ctx.curses, p = ctx.palette, s = ctx.session
        let bar = p.style(p.text, bg: p.surface)
        c.fill(rect.row, rect.col, width: rect.width, height: rect.height, bar)
        guard let index = s.currentIndex, let kase = s.current else {
            c.put(rect.row, 1, "fracview", p.style(p.accent, bold: true, bg: p.surface))
            c.put(rect.row, 11, "no cases match the filter “\(s.filter.title(classes: s.classes))” — press / to change it",
                  p.style(p.flagged, bg: p.surface), maxWidth: rect.width - 12)
            return
        }
        // Row 1: position and file.
        var col = 1
        col += c.put(rect.row, col, "fracview ", p.style(p.accent, bold: true, bg: p.surface))
        let position = "\(s.position + 1)/\(s.visible.count)"
        col += c.put(rect.row, col, " \(position) ", p.style(p.text, bold: true, bg: p.selection))
        if s.filter != .all {
            col += c.put(rect.row, col, " of \(s.cases.count) · \(s.filter.title(classes: s.classes))",
                         p.style(p.flagged, bg: p.surface), maxWidth: max(0, rect.width / 3))
        }
        col += 1
        var right = ""
        if let audit = s.auditHeadline { right = "⚠ \(audit) " }
        if let note = s.sourceNote { right = note + " " }
        if kase.classesInLabelFile.count > 1 && !s.labelsHidden {
            right = "label file: \(kase.classesInLabelFile.map(String.init).joined(separator: "+")) (several classes) " + right
        }
        let rightWidth = right.unicodeScalars.count
        let nameWidth = rect.width - col - rightWidth - 1
        if nameWidth > 4 {
            c.put(rect.row, col, " " + clipLeft(TerminalSafeText.clean(kase.displayName ?? kase.relativePath), nameWidth - 1), bar, maxWidth: nameWidth)
        }
        if !right.isEmpty && rect.width - rightWidth > col {
            c.put(rect.row, rect.width - rightWidth, right, p.style(p.flagged, bg: p.surface))
        }
        if rect.height < 2 { return }
        // Row 2: truth, prediction, agreement, review status.
        let row = rect.row + 1
        col = 1
        let label = p.style(p.muted, bg: p.surface)
        // At 80 columns every character counts: tighter gaps, and the review status speaks for itself.
        let wide = rect.width >= 100
        let gap = wide ? "   " : "  "
        col += c.put(row, col, "truth ", label)
        let truth = s.truths[index]
        if s.labelsHidden {
            col += c.put(row, col, "hidden (blind read)", p.style(p.muted, bold: true, bg: p.surface))
        } else if let k = truth {
            col += c.put(row, col, name(k, s.classes), p.style(p.truth, bold: true, bg: p.surface))
        } else {
            col += c.put(row, col, "unlabelled", p.style(p.flagged, bold: true, bg: p.surface))
        }
        col += c.put(row, col, gap + "model ", label)
        switch ctx.predictions.state(at: index) {
        case .ready(let pred):
            col += c.put(row, col, "\(name(pred.predicted, s.classes)) \(percent(pred.confidence))",
                         p.style(p.prediction, bold: true, bg: p.surface))
            // Does the CAM's maximum fall in one of the annotator's boxes (the pointing game)?
            if wide, !s.labelsHidden, let (cam, region) = pred.shownMap(camMethod),
               let hit = PointingGame.hit(cam, boxes: kase.labelBoxes, region: region) {
                col += c.put(row, col, hit ? "  CAM ✓ in box" : "  CAM ✗ outside", p.style(hit ? p.agree : p.muted, bg: p.surface))
            }
            // Does the localiser's box overlap a label box (IoU ≥ 0.3, the hit `evaluate` counts)?
            if wide, let detections = pred.detections {
                if let top = detections.first {
                    if !s.labelsHidden, let hit = Localisation.hit(top, labels: kase.labelBoxes) {
                        col += c.put(row, col, hit ? "  box ✓ on label" : "  box ✗ off label",
                                     p.style(hit ? p.agree : p.muted, bg: p.surface))
                    }
                } else {
                    col += c.put(row, col, "  box: none found", p.style(p.flagged, bg: p.surface))
                }
            }
            // Was this case in the model's training set? Seen cases are not an honest test.
            let m = pred.membership
            if m.seenInTraining {
                col += c.put(row, col, "  ⚠ seen in training", p.style(p.disagree, bold: true, bg: p.surface))
            } else if m.signaturesKnown {
                col += c.put(row, col, wide ? "  held-out (\(m.used.count)/\(m.memberCount))" : " held-out",
                             p.style(p.muted, bg: p.surface))
            } else if wide {
                col += c.put(row, col, " (training set unknown)", p.style(p.muted, bg: p.surface))
            }
            if s.filter == .likelyLabelErrors, let issue = s.labelIssues[index], issue.suggested != truth {
                col += c.put(row, col, "  suggest \(name(issue.suggested, s.classes))\(issue.flagged ? " ⚑" : "")",
                             p.style(p.flagged, bold: true, bg: p.surface))
            }
            if let t = truth {
                let agree = t == pred.predicted
                col += c.put(row, col, agree ? "  ✓ agree" : "  ✗ disagree",
                             p.style(agree ? p.agree : p.disagree, bold: true, bg: p.surface))
            }
        case .pending: col += c.put(row, col, "… running", label)
        case .failed: col += c.put(row, col, "⚠ image unreadable", p.style(p.disagree, bold: true, bg: p.surface))
        case .noModel: col += c.put(row, col, "no model", p.style(p.flagged, bg: p.surface))
        }
        col += c.put(row, col, wide ? gap + "review " : gap, label)
        if let d = s.decision(for: index) {
            let (text, color) = statusText(d, s.classes, p, blind: s.labelsHidden)
            col += c.put(row, col, text, p.style(color, bold: true, bg: p.surface))
            if !d.note.isEmpty {
                c.put(row, col, "  “" + TerminalSafeText.clean(d.note) + "”", p.style(p.muted, bg: p.surface),
                      maxWidth: max(0, rect.width - col - 1))
            }
        } else {
            c.put(row, col, "not reviewed yet", p.style(p.muted, bg: p.surface))
        }
    }

    private func name(_ k: Int, _ classes: [String]) -> String { k < classes.count ? classes[k] : "class \(k)" }

    private func statusText(_ d: ReviewDecision, _ classes: [String], _ p: Palette, blind: Bool) -> (String, RGB) {
        // A blind reader is not told whether the pick equals the hidden label; an adjudicator sees the settled class.
        if (blind || d.role == .adjudicator), d.status != .flagged {
            return ("\(d.role == .adjudicator ? "adjudicated" : "read"): \(d.decidedClass.map { name($0, classes) } ?? "?")", p.relabelled)
        }
        switch d.status {
        case .accepted: return ("✓ accepted", p.agree)
        case .flagged: return ("⚑ flagged", p.flagged)
        case .relabelled: return ("✎ relabelled → \(d.reviewerLabel.map { name($0, classes) } ?? "?")", p.relabelled)
        }
    }
}
