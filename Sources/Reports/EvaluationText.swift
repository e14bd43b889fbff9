import Basics
import Foundation
import Imaging
import Metrics

/// The terminal rendering of an evaluation report: aligned tables, "n/a" for undefined values.
public enum EvaluationText {
    public static func render(_ r: EvaluationReport) -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%5.1f%%", $0 * 100) } ?? "  n/a " }
        func num(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }
        func ci(_ c: ConfidenceInterval?) -> String { c.map { String(format: "[%.1f%%, %.1f%%]", $0.low * 100, $0.high * 100) } ?? "" }
        let nameWidth = max(20, (r.classes.map(\.count).max() ?? 0) + 1)
        var out = ""
        out += "Evaluation of \(r.split) in \(r.dataset)\n"
        out += "weights \(r.weightsID) · \(r.n) labelled cases scored"
        if !r.unlabelled.isEmpty { out += " · \(r.unlabelled.count) unlabelled excluded" }
        if !r.undecodable.isEmpty { out += " · \(r.undecodable.count) undecodable excluded" }
        out += "\nheld-out for the model: \(r.heldOut) cases"
        out += r.seen > 0 ? " · \(r.seen) seen in training left out\n" : "\n"
        out += "\n"
        let method = r.ciMethod + (r.groups.map { " over \($0) source groups" } ?? " over cases")
        out += "Accuracy      \(pct(r.accuracy))  95% CI \(ci(r.accuracyCI95))  (\(method))\n"
        out += "Macro F1      \(pct(r.macroF1))  95% CI \(ci(r.macroF1CI95))\n"
        out += "Weighted F1   \(pct(r.weightedF1))\n"
        out += "Top-2 acc.    \(pct(r.top2Accuracy))\n"
        out += "Errors        \(r.errors) of \(r.n)\n"
        for pair in r.criticalErrors {
            out += "Critical      \(pair.truth) → \(pair.predicted): \(pair.count.map(String.init) ?? "n/a (class not in model)")\n"
        }
        out += "ECE (15 bins) \(num(r.ece))   NLL \(num(r.nll))\n"
        if let t = r.temperature {
            out += "Temperature   T = \(num(t)) (\(r.temperatureNote)); after scaling ECE \(num(r.eceAfterTemperature)), NLL \(num(r.nllAfterTemperature))\n"
        } else {
            out += "Temperature   \(r.temperatureNote)\n"
        }
        if r.pointingGame.n > 0 {
            out += "Pointing game \(pct(r.pointingGame.hitRate)) of \(r.pointingGame.n) cases with boxes (CAM maximum's cell overlaps a box); "
                + "CAM mass in boxes \(pct(r.pointingGame.camMassInBoxes))\n"
        }
        if let l = r.localisation {
            func ci2(_ v: Double?, _ c: ConfidenceInterval?) -> String {
                pct(v) + (c.map { String(format: " (%.1f–%.1f%%)", $0.low * 100, $0.high * 100) } ?? "")
            }
            out += "Localiser     hit (top box IoU ≥ 0.3 with a label box) \(ci2(l.hitRate, l.hitRateCI95)); "
                + "centre in a box \(ci2(l.centreInBox, l.centreInBoxCI95)); AP50 \(ci2(l.ap50, l.ap50CI95)); "
                + "\(l.n) cases with boxes\(l.noneFound > 0 ? ", \(l.noneFound) with no box found" : "")\n"
            if let h = l.topScoreHealthy, let f = l.topScoreFractured {
                out += "              top box score: \(num(h, 2)) on Healthy cases, \(num(f, 2)) on the others\n"
            }
        }
        if !r.camMethods.isEmpty {
            out += "\nCAM methods on \(r.camMethods.first?.n ?? 0) held-out cases (\(r.ciMethod) 95 % CIs). Deletion: p(random removal) − p(removal\n"
                + "in the map's order) of the predicted class, mean over 5/10/20/40 % of the pixels (RISE, Petsiuk et al. 2018):\n"
            out += "method".padding(toLength: 12, withPad: " ", startingAt: 0) + "pointing game".leftPad(24) + "mass in boxes".leftPad(24)
                + "deletion".leftPad(26) + "\n"
            func cell(_ v: Double?, _ ci: ConfidenceInterval?, percent: Bool) -> String {
                let f = { (x: Double) in percent ? String(format: "%.1f%%", x * 100) : String(format: "%.3f", x) }
                guard let v else { return "n/a" }
                return f(v) + (ci.map { " (\(f($0.low))–\(f($0.high)))" } ?? "")
            }
            for m in r.camMethods {
                out += m.title.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + cell(m.pointingGame, m.pointingGameCI95, percent: true).leftPad(24)
                    + cell(m.massInBoxes, m.massInBoxesCI95, percent: true).leftPad(24)
                    + cell(m.deletion, m.deletionCI95, percent: false).leftPad(26) + "\n"
            }
        }
        out += "\n" + "class".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "precision  recall     F1  support\n"
        for c in r.perClass {
            let line = c.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + pct(c.precision).leftPad(9) + pct(c.recall).leftPad(8) + pct(c.f1).leftPad(7) + String(c.support).leftPad(9)
            out += line + (c.support == 0 ? "  (no cases in this split)" : "") + "\n"
        }
        out += "macro avg".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            + pct(r.macroPrecision).leftPad(9) + pct(r.macroRecall).leftPad(8) + pct(r.macroF1).leftPad(7) + String(r.n).leftPad(9) + "\n"
        out += "weighted avg".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            + pct(r.weightedPrecision).leftPad(9) + pct(r.weightedRecall).leftPad(8) + pct(r.weightedF1).leftPad(7) + String(r.n).leftPad(9) + "\n"

        out += "\nConfusion matrix (rows: truth, columns: prediction)\n"
        let abbrev = r.classes.map(abbreviation)
        out += "".padding(toLength: 6, withPad: " ", startingAt: 0) + abbrev.map { $0.leftPad(5) }.joined() + "\n"
        for (i, row) in r.confusionMatrix.enumerated() {
            out += abbrev[i].padding(toLength: 6, withPad: " ", startingAt: 0)
                + row.enumerated().map { j, v in (v == 0 && i != j ? "·" : String(v)).leftPad(5) }.joined() + "\n"
        }
        out += "  " + zip(abbrev, r.classes).map { "\($0)=\($1)" }.joined(separator: " ") + "\n"

        if !r.errorsByConfidence.isEmpty {
            out += "\nErrors, most confident first\n"
            for e in r.errorsByConfidence.prefix(15) {
                out += String(format: "  %5.1f%%  ", e.confidence * 100) + "\(e.truth) → \(e.predicted)  \(e.path)\n"
            }
            if r.errorsByConfidence.count > 15 { out += "  … \(r.errorsByConfidence.count - 15) more (--json or --out)\n" }
        }
        for u in r.undecodable { out += "undecodable: \(u)\n" }
        return TerminalSafeText.clean(out, keepingNewlines: true)
    }

    /// Short column heading: initials of the words ("Transverse Displaced" → "TD"), else the first 3 letters.
    public static func abbreviation(_ name: String) -> String {
        let words = name.split(separator: " ")
        if words.count > 1 { return String(words.compactMap(\.first)).uppercased() }
        return String(name.prefix(3))
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
