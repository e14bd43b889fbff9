import Datasets
import Foundation

/// The per-case table of `fracview evaluate --out`: one RFC 4180 row per case (header included), with the
/// truth, the prediction, its confidence and every class probability, whether the case was held out from every
/// member that judged it (`held_out`: the metrics count only these), and where the Grad-CAM's maximum lies
/// (`cam_x`, `cam_y`, image pixels), and the localiser's top box (`box_x0`, `box_y0`, `box_x1`, `box_y1` in image
/// pixels, `box_score`; empty without a localiser or when it found nothing). Cells that a spreadsheet would run as a
/// formula are neutralised with a leading apostrophe (OWASP).
public enum EvaluationCaseTable {
    public static func render(cases: [EvaluatedCase], classes: [String], temperature: Double?) -> String {
        var header = ["path", "truth", "predicted", "confidence", "correct", "held_out", "cam_x", "cam_y",
                      "box_x0", "box_y0", "box_x1", "box_y1", "box_score"]
            + classes.map { "p_\($0)" }
        if temperature != nil { header.append("confidence_calibrated") }
        var rows = [header]
        for c in cases {
            let p = Softmax.probabilities(c.logits)
            let top = TopKAccuracy.topK(p, k: 1)[0]
            var row = [c.relativePath, c.truth.map { classes[$0] } ?? "unlabelled", classes[top],
                       String(format: "%.6f", p[top]), c.truth.map { $0 == top ? "yes" : "no" } ?? "", c.seen ? "no" : "yes",
                       c.camPeak.map { String(format: "%.1f", $0.x) } ?? "", c.camPeak.map { String(format: "%.1f", $0.y) } ?? ""]
            if let top = c.detections?.first, let size = c.imageSize {
                row += top.box.pixels(width: size.width, height: size.height).map { String(format: "%.1f", $0) }
                row.append(String(format: "%.4f", top.score))
            } else {
                row += Array(repeating: "", count: 5)
            }
            row += p.map { String(format: "%.6f", $0) }
            if let t = temperature { row.append(String(format: "%.6f", Softmax.probabilities(c.logits, temperature: t)[top])) }
            rows.append(row)
        }
        return CSVTable.render(rows.map { $0.map(CSVTable.neutralise) }, lineEnd: .crlf)
    }
}
