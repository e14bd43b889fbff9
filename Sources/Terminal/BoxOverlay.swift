import Basics
import Datasets
import Foundation
import Imaging
import Model

/// The boxes drawn over the X-ray: the label file's, solid in a colour per class, and the localiser's top box,
/// dashed in the theme's `model_box` colour with its score, so the two never look alike (the dash also tells
/// them apart without colour).
struct BoxOverlay {
    let labels: [LabelBox]
    let model: Detection?
    let modelColor: RGB

    /// A colour per class for the box outlines (Okabe–Ito, then bright extras): distinct under the common colour
    /// vision deficiencies and visible on grey.
    static let classColors: [(UInt8, UInt8, UInt8)] = [(230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
                                                       (0, 114, 178), (213, 94, 0), (204, 121, 167), (255, 0, 255),
                                                       (255, 64, 64), (160, 255, 120)]

    /// Outlines the boxes on `pixels`, which show the view's crop of the oriented image (`source` is the stored
    /// image's size). Boxes reaching outside the image are clipped (the audit counts them as label problems). With
    /// several classes in the label file, each label box carries its class number where there is room.
    func draw(on pixels: RGBImage, view: ImageView, source: (width: Int, height: Int), xOffset: Int = 0,
              width: Int? = nil) -> RGBImage {
        guard !labels.isEmpty || model != nil else { return pixels }
        var canvas = Canvas(image: pixels)
        let w = width ?? pixels.width, h = pixels.height
        let turned = view.quarterTurns % 2 == 1
        let (ow, oh) = turned ? (source.height, source.width) : (source.width, source.height)
        let r = ImageRenderer.cropRect(width: ow, height: oh, view: view)
        // Oriented fraction → output pixel.
        func px(_ fx: Double) -> Int { xOffset + Int(((fx * Double(ow) - Double(r.x)) / Double(r.w) * Double(w)).rounded()) }
        func py(_ fy: Double) -> Int { Int(((fy * Double(oh) - Double(r.y)) / Double(r.h) * Double(h)).rounded()) }
        func rect(_ box: ImageBox) -> (x: Int, y: Int, w: Int, h: Int) {
            let clamp = { (v: Double) in min(max(v, 0), 1) }
            let a = ImageRenderer.orient(x: clamp(box.x0), y: clamp(box.y0), view)
            let b = ImageRenderer.orient(x: clamp(box.x1), y: clamp(box.y1), view)
            let x0 = px(min(a.0, b.0)), x1 = px(max(a.0, b.0)), y0 = py(min(a.1, b.1)), y1 = py(max(a.1, b.1))
            return (x0, y0, x1 - x0, y1 - y0)
        }
        let thickness = max(1, min(w, h) / 160)
        let scale = max(1, h / 300)
        func tag(_ text: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8)) {
            guard h >= 120 else { return }
            let top = max(0, y - Canvas.lineHeight(scale: scale) - 1)
            canvas.fillRect(x: x, y: top, width: Canvas.textWidth(text, scale: scale) + 2,
                            height: Canvas.lineHeight(scale: scale) + 1, color: (0, 0, 0))
            canvas.text(text, x: x + 1, y: top + 1, color: color, scale: scale)
        }
        let labelled = Set(labels.map(\.classIndex)).count > 1
        for label in labels where label.box.x1 > label.box.x0 && label.box.y1 > label.box.y0 {
            let b = rect(label.box)
            let color = Self.classColors[label.classIndex % Self.classColors.count]
            canvas.strokeRect(x: b.x, y: b.y, width: max(thickness * 2, b.w), height: max(thickness * 2, b.h),
                              color: color, thickness: thickness)
            if labelled { tag("\(label.classIndex)", x: b.x, y: b.y, color: color) }
        }
        if let model, model.box.isUsable {
            let b = rect(model.box)
            let color = (modelColor.r, modelColor.g, modelColor.b)
            canvas.strokeDashedRectWithRim(x: b.x, y: b.y, width: max(thickness * 2, b.w), height: max(thickness * 2, b.h),
                                           color: color, thickness: thickness, dash: max(6, thickness * 6))
            tag(String(format: "%.2f", Double(model.score)), x: b.x + b.w - Canvas.textWidth("0.00", scale: scale) - 2,
                y: b.y + b.h + Canvas.lineHeight(scale: scale) + 2, color: color)
        }
        return canvas.image
    }
}
