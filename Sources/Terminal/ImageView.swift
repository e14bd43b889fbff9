import Imaging
import Model
import Review

/// What the image pane shows and how (`g`, `i`, `w`/`W`, `[`/`]`, `+`/`-`/`=`).
public struct ImageView: Equatable, Sendable {
    public enum Mode: String, CaseIterable, Sendable {
        case original, gradcam, attention, sideBySide
        public var title: String {
            switch self {
            case .original: return "X-ray"
            case .gradcam: return "Grad-CAM"
            case .attention: return "attention"
            case .sideBySide: return "X-ray | Grad-CAM"
            }
        }
    }
    public var mode: Mode = .original
    public var window = WindowLevel.identity
    public var zoom: Double = 1
    /// The label file's boxes over the image (`b`).
    public var showBoxes = true

    public init() {}

    /// original → Grad-CAM → attention → side by side (only when the pane is wide enough) → original.
    public mutating func cycleMode(allowSideBySide: Bool) {
        switch mode {
        case .original: mode = .gradcam
        case .gradcam: mode = .attention
        case .attention: mode = allowSideBySide ? .sideBySide : .original
        case .sideBySide: mode = .original
        }
    }

    /// Narrower window = more contrast. The width stays within 8…512 (8-bit pixel units).
    public mutating func scaleWindow(_ factor: Float) {
        window.width = max(8, min(512, window.width * factor))
    }
    public mutating func shiftLevel(_ delta: Float) {
        window.center = max(0, min(255, window.center + delta))
    }
    public mutating func zoomIn() { zoom = min(8, zoom * 1.5) }
    public mutating func zoomOut() { zoom = max(1, zoom / 1.5) }
    public mutating func fit() { zoom = 1 }
    public mutating func reset() { let m = mode, b = showBoxes; self = ImageView(); mode = m; showBoxes = b }

    public var windowDescription: String {
        "W \(Int(window.width.rounded())) L \(Int(window.center.rounded()))\(window.inverted ? " inv" : "")"
    }
}

/// Turns a decoded X-ray, its maps and the view settings into the pixels to show, at a target size.
public enum ImageRenderer {
    /// Largest size with the image's aspect ratio inside maxWidth×maxHeight, for target pixels that are
    /// `pixelAspect` times as wide as they are high (1 for sixel; about 1 for half blocks in a 1:2 cell).
    public static func fitted(width: Int, height: Int, maxWidth: Int, maxHeight: Int, pixelAspect: Double = 1) -> (Int, Int) {
        guard width > 0, height > 0, maxWidth > 0, maxHeight > 0, pixelAspect > 0 else { return (0, 0) }
        let sx = Double(maxWidth) * pixelAspect / Double(width), sy = Double(maxHeight) / Double(height)
        let scale = min(sx, sy)
        let w = Int((Double(width) * scale / pixelAspect).rounded(.down)), h = Int((Double(height) * scale).rounded(.down))
        return (max(1, min(maxWidth, w)), max(1, min(maxHeight, h)))
    }

    /// Crops the centre 1/zoom of the image.
    static func crop(_ image: RGBImage, zoom: Double) -> RGBImage {
        guard zoom > 1.001 else { return image }
        let w = max(1, Int(Double(image.width) / zoom)), h = max(1, Int(Double(image.height) / zoom))
        let x0 = (image.width - w) / 2, y0 = (image.height - h) / 2
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let src = ((y0 + y) * image.width + x0) * 3
            out.withUnsafeMutableBufferPointer { dst in
                image.pixels.withUnsafeBufferPointer { s in
                    for i in 0..<(w * 3) { dst[y * w * 3 + i] = s[src + i] }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// One panel of the view (before fitting): the windowed X-ray, or a map over it.
    static func panel(_ mode: ImageView.Mode, image: RGBImage, prediction: CasePrediction?, view: ImageView,
                      colormap: Colormap) -> (RGBImage, String?) {
        let windowed = view.window == .identity ? image : view.window.apply(to: image)
        switch mode {
        case .original, .sideBySide:
            return (crop(windowed, zoom: view.zoom), nil)
        case .gradcam:
            guard let map = prediction?.gradcam else { return (crop(windowed, zoom: view.zoom), "Grad-CAM not ready") }
            let over = Overlay.heatmap(map.values, mapWidth: map.width, mapHeight: map.height, over: windowed, colormap: colormap)
            return (crop(over, zoom: view.zoom), nil)
        case .attention:
            guard let map = prediction?.attention else { return (crop(windowed, zoom: view.zoom), "attention not ready") }
            let over = Overlay.heatmap(map.values, mapWidth: map.width, mapHeight: map.height, over: windowed, colormap: colormap)
            return (crop(over, zoom: view.zoom), nil)
        }
    }

    /// A colour per class for the box outlines (Okabe–Ito, then bright extras): distinct under the common colour
    /// vision deficiencies and visible on grey.
    static let boxColors: [(UInt8, UInt8, UInt8)] = [(230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
                                                     (0, 114, 178), (213, 94, 0), (204, 121, 167), (255, 0, 255),
                                                     (255, 64, 64), (160, 255, 120)]

    /// Outlines the label boxes on `pixels`, which show the centre 1/zoom of the image (the crop). Boxes reaching
    /// outside the image are clipped (the audit counts them as label problems). With several classes in the label
    /// file, each box carries its class number where there is room.
    static func drawBoxes(_ boxes: [LabelBox], on pixels: RGBImage, zoom: Double, xOffset: Int = 0, width: Int? = nil) -> RGBImage {
        guard !boxes.isEmpty else { return pixels }
        var canvas = Canvas(image: pixels)
        let w = width ?? pixels.width, h = pixels.height
        let z = max(1, zoom), c0 = (1 - 1 / z) / 2
        let thickness = max(1, min(w, h) / 160)
        let labelled = Set(boxes.map(\.classIndex)).count > 1
        for box in boxes {
            let x0 = (min(max(box.x0, 0), 1) - c0) * z, x1 = (min(max(box.x1, 0), 1) - c0) * z
            let y0 = (min(max(box.y0, 0), 1) - c0) * z, y1 = (min(max(box.y1, 0), 1) - c0) * z
            let px0 = xOffset + Int((x0 * Double(w)).rounded()), px1 = xOffset + Int((x1 * Double(w)).rounded())
            let py0 = Int((y0 * Double(h)).rounded()), py1 = Int((y1 * Double(h)).rounded())
            let color = boxColors[box.classIndex % boxColors.count]
            canvas.strokeRect(x: px0, y: py0, width: max(thickness * 2, px1 - px0), height: max(thickness * 2, py1 - py0),
                              color: color, thickness: thickness)
            if labelled && h >= 120 {
                let scale = max(1, h / 300)
                canvas.fillRect(x: px0, y: py0 - Canvas.lineHeight(scale: scale) - 1,
                                width: Canvas.textWidth("\(box.classIndex)", scale: scale) + 2, height: Canvas.lineHeight(scale: scale) + 1,
                                color: (0, 0, 0))
                canvas.text("\(box.classIndex)", x: px0 + 1, y: py0 - Canvas.lineHeight(scale: scale), color: color, scale: scale)
            }
        }
        return canvas.image
    }

    /// The final pixels at most maxWidth×maxHeight (aspect kept), with a note when a map is missing.
    public static func render(image: RGBImage, prediction: CasePrediction?, view: ImageView, colormap: Colormap,
                              maxWidth: Int, maxHeight: Int, background: RGB, pixelAspect: Double = 1,
                              boxes: [LabelBox] = []) -> (RGBImage, String?)? {
        let boxes = view.showBoxes ? boxes : []
        if view.mode == .sideBySide {
            let gap = max(2, maxWidth / 60)
            let half = (maxWidth - gap) / 2
            let (left, _) = panel(.original, image: image, prediction: prediction, view: view, colormap: colormap)
            let (right, note) = panel(.gradcam, image: image, prediction: prediction, view: view, colormap: colormap)
            let (w, h) = fitted(width: left.width, height: left.height, maxWidth: half, maxHeight: maxHeight, pixelAspect: pixelAspect)
            guard w > 0, h > 0 else { return nil }
            let a = Resize.pilBilinear(left, width: w, height: h)
            let b = Resize.pilBilinear(right, width: w, height: h)
            let total = w * 2 + gap
            var px = [UInt8](repeating: 0, count: total * h * 3)
            for i in stride(from: 0, to: px.count, by: 3) { px[i] = background.r; px[i + 1] = background.g; px[i + 2] = background.b }
            for y in 0..<h {
                for x in 0..<w {
                    let s = (y * w + x) * 3
                    let d1 = (y * total + x) * 3, d2 = (y * total + x + w + gap) * 3
                    px[d1] = a.pixels[s]; px[d1 + 1] = a.pixels[s + 1]; px[d1 + 2] = a.pixels[s + 2]
                    px[d2] = b.pixels[s]; px[d2 + 1] = b.pixels[s + 1]; px[d2 + 2] = b.pixels[s + 2]
                }
            }
            var out = RGBImage(width: total, height: h, pixels: px)
            out = drawBoxes(boxes, on: out, zoom: view.zoom, xOffset: 0, width: w)
            out = drawBoxes(boxes, on: out, zoom: view.zoom, xOffset: w + gap, width: w)
            return (out, note)
        }
        let (source, note) = panel(view.mode, image: image, prediction: prediction, view: view, colormap: colormap)
        let (w, h) = fitted(width: source.width, height: source.height, maxWidth: maxWidth, maxHeight: maxHeight, pixelAspect: pixelAspect)
        guard w > 0, h > 0 else { return nil }
        return (drawBoxes(boxes, on: Resize.pilBilinear(source, width: w, height: h), zoom: view.zoom), note)
    }
}
