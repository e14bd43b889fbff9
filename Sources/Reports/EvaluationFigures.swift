import Foundation
import Imaging
import Metrics

/// The report's figures, drawn with the Imaging `Canvas` (no plotting library).
public enum EvaluationFigures {
    typealias RGB = (UInt8, UInt8, UInt8)

    /// Confusion matrix: truth rows × predicted columns, shaded by the row share, counts printed in each cell.
    public static func confusionMatrix(_ r: EvaluationReport) -> RGBImage {
        let k = r.classes.count
        let cell = 44, labelScale = 1
        let rowLabelWidth = (r.classes.map { Canvas.textWidth($0, scale: labelScale) }.max() ?? 0) + 16
        let left = rowLabelWidth, top = 70
        let width = left + k * cell + 30, height = top + k * cell + 60
        var canvas = Canvas(width: width, height: height)
        canvas.text("Confusion matrix: \(r.split), n=\(r.n), accuracy \(percent(r.accuracy))", x: 10, y: 10, scale: 2)
        canvas.text("rows: truth  columns: prediction (shade = share of the row)", x: 10, y: 34)
        for (j, name) in r.classes.enumerated() {
            let abbr = EvaluationText.abbreviation(name)
            canvas.text(abbr, x: left + j * cell + (cell - Canvas.textWidth(abbr)) / 2, y: top - 14)
        }
        for i in 0..<k {
            let rowTotal = r.confusionMatrix[i].reduce(0, +)
            canvas.text(r.classes[i], x: left - 8 - Canvas.textWidth(r.classes[i]), y: top + i * cell + cell / 2 - 4)
            for j in 0..<k {
                let v = r.confusionMatrix[i][j]
                let share = rowTotal > 0 ? Double(v) / Double(rowTotal) : 0
                let base: RGB = i == j ? (33, 102, 172) : (178, 24, 43)   // blue diagonal, red errors
                let color = v == 0 ? (246, 246, 246) : mix((235, 235, 235), base, 0.15 + 0.85 * share)
                canvas.fillRect(x: left + j * cell + 1, y: top + i * cell + 1, width: cell - 2, height: cell - 2, color: color)
                if v > 0 {
                    let text = String(v)
                    let ink: RGB = share > 0.5 ? (255, 255, 255) : (0, 0, 0)
                    canvas.text(text, x: left + j * cell + (cell - Canvas.textWidth(text)) / 2, y: top + i * cell + cell / 2 - 4, color: ink)
                }
            }
            if rowTotal == 0 {
                let note = "no cases in this split"
                canvas.text(note, x: left + (k * cell - Canvas.textWidth(note)) / 2, y: top + i * cell + cell / 2 - 4,
                            color: (120, 120, 120))
            }
        }
        let legend = zip(r.classes.map(EvaluationText.abbreviation), r.classes).map { "\($0)=\($1)" }
        var y = top + k * cell + 12, line = ""
        for item in legend {
            if Canvas.textWidth(line + "  " + item) > width - 20 { canvas.text(line, x: 10, y: y, color: (90, 90, 90)); y += 12; line = "" }
            line += (line.isEmpty ? "" : "  ") + item
        }
        canvas.text(line, x: 10, y: y, color: (90, 90, 90))
        return canvas.image
    }

    /// Reliability diagram: per confidence bin, accuracy (bar) against confidence (diagonal); bar shade ~ count.
    public static func reliabilityDiagram(_ r: EvaluationReport) -> RGBImage {
        let plot = 360, left = 60, top = 60
        var canvas = Canvas(width: left + plot + 40, height: top + plot + 70)
        canvas.text("Reliability: \(r.split), ECE \(r.ece.map { String(format: "%.3f", $0) } ?? "n/a")", x: 10, y: 10, scale: 2)
        if let t = r.temperature {
            canvas.text(String(format: "temperature T=%.2f fitted on valid", t), x: 10, y: 34)
        }
        // Axes and grid.
        for g in 0...5 {
            let p = plot * g / 5
            canvas.fillRect(x: left, y: top + plot - p, width: plot, height: 1, color: (225, 225, 225))
            canvas.fillRect(x: left + p, y: top, width: 1, height: plot, color: (225, 225, 225))
            let label = String(format: "%.1f", Double(g) / 5)
            canvas.text(label, x: left - 8 - Canvas.textWidth(label), y: top + plot - p - 4)
            canvas.text(label, x: left + p - Canvas.textWidth(label) / 2, y: top + plot + 8)
        }
        let maxCount = max(r.reliability.map(\.count).max() ?? 1, 1)
        for bin in r.reliability {
            guard let acc = bin.accuracy else { continue }
            let x0 = left + Int(bin.lower * Double(plot)) + 1, x1 = left + Int(bin.upper * Double(plot)) - 1
            let h = Int(acc * Double(plot))
            let shade = 0.35 + 0.65 * Double(bin.count) / Double(maxCount)
            canvas.fillRect(x: x0, y: top + plot - h, width: max(x1 - x0, 1), height: h, color: mix((255, 255, 255), (33, 102, 172), shade))
            if let conf = bin.confidence {   // the bin's mean confidence, as a red tick
                let y = top + plot - Int(conf * Double(plot))
                canvas.fillRect(x: x0, y: y - 1, width: max(x1 - x0, 1), height: 3, color: (178, 24, 43))
            }
        }
        for i in 0..<plot {   // the diagonal: perfect calibration
            canvas.fillRect(x: left + i, y: top + plot - i - 1, width: 2, height: 2, color: (60, 60, 60))
        }
        canvas.fillRect(x: left, y: top, width: 1, height: plot, color: (0, 0, 0))
        canvas.fillRect(x: left, y: top + plot, width: plot, height: 1, color: (0, 0, 0))
        canvas.text("confidence (top probability)", x: left + plot / 2 - 110, y: top + plot + 24)
        canvas.text("bars: accuracy  red: mean confidence  darker: more cases", x: 10, y: top + plot + 44, color: (90, 90, 90))
        canvas.text("accuracy", x: 4, y: top - 16)
        return canvas.image
    }

    private static func percent(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a" }

    private static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        let t = min(max(t, 0), 1)
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) * (1 - t) + Double(y) * t).rounded()) }
        return (m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
    }
}
