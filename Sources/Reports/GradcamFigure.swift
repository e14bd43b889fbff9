import Basics
import Imaging
import Model

// The notebook's Grad-CAM figure as one image: original | Grad-CAM overlay | attention map, with titles.

public enum GradcamFigure {
    public static let background: (UInt8, UInt8, UInt8) = (255, 255, 255)
    public static let ink: (UInt8, UInt8, UInt8) = (20, 20, 20)
    public static let muted: (UInt8, UInt8, UInt8) = (110, 110, 110)

    /// Three panels side by side, each image fitted (aspect kept) into panelSize×panelSize:
    /// - the original image;
    /// - the Grad-CAM overlay (map resized to the image, coloured, 0.6·image + 0.4·heat), titled with the class;
    /// - the attention map, min–max scaled as the notebook's imshow showed it, with its true range under it.
    /// Colour bars under the two maps show the scale. `caption` (e.g. file and model) goes at the bottom.
    /// `detections` (a model with a localiser): its top box, dashed, on the original and the CAM panel, and its score
    /// (or "no fracture found") under the original.
    public static let modelBoxColor: (UInt8, UInt8, UInt8) = (0, 200, 230)

    public static func render(image: RGBImage, gradcam: FeatureMap, method: String = "Grad-CAM", attention: FeatureMap, predicted: String,
                              confidence: Float, colormap: Colormap = .jet, panelSize: Int = 320,
                              caption: String? = nil, detections: [Detection]? = nil) -> RGBImage {
        let panel = max(64, panelSize)
        let margin = 16, gap = 16
        let shown = image.fitted(maxWidth: panel, maxHeight: panel)
        let titles = ["Original", "\(method): \(predicted) (\(percent(confidence)))", "Attention map"]
        let titleScale = titles.allSatisfy { Canvas.textWidth($0, scale: 2) <= panel } ? 2 : 1
        let titleHeight = Canvas.lineHeight(scale: titleScale)
        let imageTop = margin + titleHeight + 8
        let barTop = imageTop + shown.height + 10
        let barHeight = 10
        let labelTop = barTop + barHeight + 4
        let captionTop = labelTop + Canvas.lineHeight() + 10
        let height = captionTop + (caption == nil ? 0 : Canvas.lineHeight()) + margin
        var canvas = Canvas(width: 2 * margin + 3 * panel + 2 * gap, height: height, background: background)

        let overlay = Overlay.heatmap(gradcam.values, mapWidth: gradcam.width, mapHeight: gradcam.height, over: shown,
                                      colormap: colormap)
        let (attentionShown, attentionMin, attentionMax) = attention.normalized()
        let attentionView = Overlay.colored(attentionShown.values, mapWidth: attention.width, mapHeight: attention.height,
                                            width: shown.width, height: shown.height, colormap: colormap)
        let panels = [shown, overlay, attentionView]
        for (i, picture) in panels.enumerated() {
            let left = margin + i * (panel + gap)
            let title = Canvas.fitting(titles[i], width: panel, scale: titleScale)
            canvas.text(title, centeredAt: left + panel / 2, y: margin, color: ink, scale: titleScale)
            let x = left + (panel - picture.width) / 2
            canvas.draw(picture, x: x, y: imageTop)
            if i < 2, let top = detections?.first, top.box.isUsable {
                let sx = Double(picture.width), sy = Double(picture.height)
                let bx = x + Int((top.box.x0 * sx).rounded()), by = imageTop + Int((top.box.y0 * sy).rounded())
                let bw = max(2, Int((top.box.width * sx).rounded())), bh = max(2, Int((top.box.height * sy).rounded()))
                canvas.strokeDashedRectWithRim(x: bx, y: by, width: bw, height: bh, color: modelBoxColor, thickness: 2, dash: 8)
            }
            switch i {
            case 0:
                var under = "\(image.width)x\(image.height) px"
                if let detections {
                    under += detections.first.map { String(format: "  model box %.2f", Double($0.score)) } ?? "  no fracture found"
                }
                canvas.text(under, centeredAt: left + panel / 2, y: barTop, color: muted)
            case 1:
                colorBar(&canvas, x: x, y: barTop, width: picture.width, height: barHeight, colormap: colormap,
                         low: "0", high: "1", labelTop: labelTop)
            default:
                colorBar(&canvas, x: x, y: barTop, width: picture.width, height: barHeight, colormap: colormap,
                         low: format(attentionMin), high: format(attentionMax), labelTop: labelTop)
            }
        }
        if let caption {
            let line = Canvas.fitting(caption, width: canvas.width - 2 * margin)
            canvas.text(line, x: margin, y: captionTop, color: muted)
        }
        return canvas.image
    }

    static func colorBar(_ canvas: inout Canvas, x: Int, y: Int, width: Int, height: Int, colormap: Colormap,
                         low: String, high: String, labelTop: Int) {
        for column in 0..<width {
            let v = width > 1 ? Float(column) / Float(width - 1) : 0
            canvas.fillRect(x: x + column, y: y, width: 1, height: height, color: colormap.rgb(v))
        }
        canvas.strokeRect(x: x - 1, y: y - 1, width: width + 2, height: height + 2, color: muted)
        canvas.text(low, x: x, y: labelTop, color: muted)
        canvas.text(high, x: x + width - Canvas.textWidth(high), y: labelTop, color: muted)
    }

    static func percent(_ p: Float) -> String {
        let tenths = Int((Double(p) * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func format(_ v: Float) -> String {
        let thousandths = Int((Double(v) * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let a = abs(thousandths)
        let frac = String(a % 1000)
        return "\(sign)\(a / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
}
