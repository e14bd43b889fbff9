import Datasets
import Imaging
import Model

/// What the image pane shows and how (`g`, `i`, `w`/`W`, `[`/`]`, `+`/`-`/`=`).
public struct ImageView: Equatable, Sendable {
    public enum Mode: String, CaseIterable, Sendable {
        case original, gradcam, attention, sideBySide
        public var title: String {
            switch self {
            case .original: return "X-ray"
            case .gradcam: return "CAM"
            case .attention: return "attention"
            case .sideBySide: return "X-ray | CAM"
            }
        }
    }
    public var mode: Mode = .original
    /// Which CAM method the CAM view shows (`M`); every method's map comes with each prediction.
    public var camMethod = CAMMethod.preferred
    public var window = WindowLevel.identity
    public var zoom: Double = 1
    /// Centre of the zoomed crop, as a fraction of the oriented image (0.5, 0.5: the middle).
    public var centerX = 0.5, centerY = 0.5
    /// Orientation (`h`, `v`, `r`, `l`): flips first, then quarter turns clockwise.
    public var flipH = false, flipV = false
    public var quarterTurns = 0
    /// Which boxes are drawn over the image (`b`): the label file's, the model's, both or none.
    public var boxLayers = BoxLayers.both
    /// The window preset in use (`p`), recomputed for each case from its own histogram; nil once the window is
    /// changed by hand.
    public var preset: WindowPreset?
    /// Window/level step (`s`): 0 fine, 1 medium, 2 coarse.
    public var step = 1
    /// A DICOM case's window, in its modality units (nil: the file's own opening window). Set per case.
    public var dicomWindow: WindowLevel?
    /// Which DICOM preset `p` chose last (the file's windows first, then OHIF's).
    public var dicomPreset: Int?

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

    /// The next method of the registry, in its order.
    public mutating func cycleCAMMethod() {
        let all = CAMMethod.all
        camMethod = all[((all.firstIndex(of: camMethod) ?? -1) + 1) % all.count]
    }

    /// The view's name in the caption, naming the CAM method where one is shown.
    public var title: String {
        switch mode {
        case .gradcam: return camMethod.title
        case .sideBySide: return "X-ray | \(camMethod.title)"
        default: return mode.title
        }
    }

    static let steps: [(name: String, level: Float, factor: Float)] = [("fine", 2, 1.05), ("medium", 8, 1.25), ("coarse", 32, 1.6)]
    public var stepName: String { Self.steps[step].name }
    public mutating func cycleStep() { step = (step + 1) % Self.steps.count }

    /// Narrower window = more contrast. The width stays within 2…512 (8-bit pixel units).
    public mutating func narrowWindow() { window.width = max(2, min(512, window.width / Self.steps[step].factor)); preset = nil }
    public mutating func widenWindow() { window.width = max(2, min(512, window.width * Self.steps[step].factor)); preset = nil }
    public mutating func shiftLevel(_ direction: Float) {
        window.center = max(0, min(255, window.center + direction * Self.steps[step].level)); preset = nil
    }
    public mutating func zoomIn() { zoom = min(8, zoom * 1.5); clampCenter() }
    public mutating func zoomOut() { zoom = max(1, zoom / 1.5); clampCenter() }
    public mutating func fit() { zoom = 1; centerX = 0.5; centerY = 0.5 }

    /// Moves the crop by a tenth of what is visible; false when not zoomed (nothing to pan).
    @discardableResult
    public mutating func pan(dx: Double, dy: Double) -> Bool {
        guard zoom > 1.001 else { return false }
        centerX += dx * 0.1 / zoom; centerY += dy * 0.1 / zoom
        clampCenter()
        return true
    }

    private mutating func clampCenter() {
        let half = 0.5 / zoom
        centerX = min(max(centerX, half), 1 - half)
        centerY = min(max(centerY, half), 1 - half)
    }

    public mutating func flipHorizontally() { flipH.toggle() }
    public mutating func flipVertically() { flipV.toggle() }
    public mutating func rotate(clockwise: Bool) {
        quarterTurns = (quarterTurns + (clockwise ? 1 : 3)) % 4
        centerX = 0.5; centerY = 0.5
    }

    /// A new case: zoom, pan and orientation start afresh (each X-ray is read from its whole view first); the
    /// window, its preset, the view mode and the boxes stay as the reviewer set them.
    public mutating func newCase() {
        zoom = 1; centerX = 0.5; centerY = 0.5; flipH = false; flipV = false; quarterTurns = 0
        dicomWindow = nil; dicomPreset = nil
    }

    /// OHIF's window presets, in modality units (Hounsfield-like), offered after a DICOM file's own windows.
    public static let dicomPresets: [(name: String, window: WindowLevel)] = [
        ("bone", WindowLevel(center: 480, width: 2500)), ("soft tissue", WindowLevel(center: 40, width: 400)),
    ]

    /// `w` `W` `[` `]` on a DICOM case: the same steps, scaled to the file's value range (a 12-bit image moves
    /// 16 times as far per key as an 8-bit one).
    public mutating func adjustDicomWindow(_ image: MedicalImage, widthFactor: Float = 1, levelDirection: Float = 0) {
        var w = dicomWindow ?? image.initialWindow
        let unit = max(1, (image.maxValue - image.minValue) / 255)
        w.width = max(1, w.width * widthFactor)
        w.center += levelDirection * Self.steps[step].level * unit
        dicomWindow = w
        dicomPreset = nil
    }

    /// `p` on a DICOM case: the file's windows, then bone and soft tissue, then the full range; returns its name.
    public mutating func nextDicomPreset(_ image: MedicalImage) -> String {
        var choices: [(String, WindowLevel)] = image.windows.enumerated().map { ("file window \($0.offset + 1)", $0.element) }
        choices += Self.dicomPresets
        choices.append(("full range", WindowLevel(center: (image.minValue + image.maxValue) / 2 + 0.5,
                                                  width: max(1, image.maxValue - image.minValue + 1))))
        let next = ((dicomPreset ?? -1) + 1) % choices.count
        dicomPreset = next
        dicomWindow = choices[next].1
        return choices[next].0
    }

    public mutating func reset() {
        let m = mode, b = boxLayers, s = step, method = camMethod
        self = ImageView(); mode = m; boxLayers = b; step = s; camMethod = method
    }

    public var windowDescription: String {
        "W \(Int(window.width.rounded())) L \(Int(window.center.rounded()))\(window.inverted ? " inv" : "")"
            + (preset.map { " (\($0.title))" } ?? "")
    }

    /// The orientation in words for the caption ("" when as stored).
    public var orientationDescription: String {
        var parts: [String] = []
        if flipH { parts.append("flipped ↔") }
        if flipV { parts.append("flipped ↕") }
        if quarterTurns != 0 { parts.append("rotated \(quarterTurns * 90)°") }
        return parts.joined(separator: " ")
    }

    /// A key for caches: everything that changes the pixels.
    public var renderKey: String {
        "\(mode)|\(camMethod.id)|\(dicomWindow.map { "\($0.center)/\($0.width)" } ?? "-")|\(window.center)|\(window.width)|\(window.inverted)|\(zoom)|\(centerX)|\(centerY)|\(flipH)|\(flipV)|\(quarterTurns)|\(boxLayers)"
    }
}

/// Window presets for 8-bit images (OHIF's idea, mapped to images without stored units): each is computed from
/// the case's own grey histogram, so it means the same on a dark and a bright radiograph.
public enum WindowPreset: String, CaseIterable, Sendable {
    /// Every stored level (W 256 L 128).
    case full
    /// The 1st to 99th percentile stretched to the screen's range.
    case auto
    /// The bright half (40th to 99.5th percentile): cortex and trabeculae.
    case bone
    /// The darker range (5th to 60th percentile): soft tissue around the bone.
    case softTissue

    public var title: String { self == .softTissue ? "soft tissue" : rawValue }

    public var next: WindowPreset { Self.allCases[(Self.allCases.firstIndex(of: self)! + 1) % Self.allCases.count] }

    /// The window for `image` (its first channel: the X-ray is grey).
    public func window(for image: RGBImage, inverted: Bool) -> WindowLevel {
        if self == .full { return WindowLevel(inverted: inverted) }
        var histogram = [Int](repeating: 0, count: 256)
        var i = 0
        while i < image.pixels.count { histogram[Int(image.pixels[i])] += 1; i += 3 }
        let total = histogram.reduce(0, +)
        func percentile(_ q: Double) -> Float {
            var seen = 0
            let target = Int((Double(total) * q).rounded(.up))
            for (v, n) in histogram.enumerated() { seen += n; if seen >= max(1, target) { return Float(v) } }
            return 255
        }
        let (low, high): (Double, Double)
        switch self {
        case .full: (low, high) = (0, 1)
        case .auto: (low, high) = (0.01, 0.99)
        case .bone: (low, high) = (0.40, 0.995)
        case .softTissue: (low, high) = (0.05, 0.60)
        }
        let a = percentile(low), b = max(percentile(high), a + 2)
        return WindowLevel.stretching(low: a, high: b, inverted: inverted)
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

    /// The image flipped, then turned clockwise by quarter turns, as the view says.
    static func orient(_ image: RGBImage, _ view: ImageView) -> RGBImage {
        guard view.flipH || view.flipV || view.quarterTurns != 0 else { return image }
        let w = image.width, h = image.height
        let turns = view.quarterTurns % 4
        let (ow, oh) = turns % 2 == 0 ? (w, h) : (h, w)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        // Flip in the source, then rotate the flipped point.
                        let fx = view.flipH ? w - 1 - x : x, fy = view.flipV ? h - 1 - y : y
                        let (tx, ty): (Int, Int)
                        switch turns {
                        case 1: (tx, ty) = (h - 1 - fy, fx)
                        case 2: (tx, ty) = (w - 1 - fx, h - 1 - fy)
                        case 3: (tx, ty) = (fy, w - 1 - fx)
                        default: (tx, ty) = (fx, fy)
                        }
                        let s = (y * w + x) * 3, d = (ty * ow + tx) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }

    /// A point of the stored image (fractions) where the oriented image shows it.
    static func orient(x: Double, y: Double, _ view: ImageView) -> (Double, Double) {
        let fx = view.flipH ? 1 - x : x, fy = view.flipV ? 1 - y : y
        switch view.quarterTurns % 4 {
        case 1: return (1 - fy, fx)
        case 2: return (1 - fx, 1 - fy)
        case 3: return (fy, 1 - fx)
        default: return (fx, fy)
        }
    }

    /// The crop the view shows: its origin in pixels and size, 1/zoom of the image around the view's centre.
    static func cropRect(width: Int, height: Int, view: ImageView) -> (x: Int, y: Int, w: Int, h: Int) {
        guard view.zoom > 1.001 else { return (0, 0, width, height) }
        let w = max(1, Int(Double(width) / view.zoom)), h = max(1, Int(Double(height) / view.zoom))
        let x0 = min(max(0, Int((view.centerX * Double(width) - Double(w) / 2).rounded())), width - w)
        let y0 = min(max(0, Int((view.centerY * Double(height) - Double(h) / 2).rounded())), height - h)
        return (x0, y0, w, h)
    }

    /// Orients the image, then crops what the zoom and pan show.
    static func crop(_ image: RGBImage, view: ImageView) -> RGBImage {
        let image = orient(image, view)
        let r = cropRect(width: image.width, height: image.height, view: view)
        guard r.w != image.width || r.h != image.height else { return image }
        var out = [UInt8](repeating: 0, count: r.w * r.h * 3)
        out.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { s in
                for y in 0..<r.h {
                    let src = ((r.y + y) * image.width + r.x) * 3
                    for i in 0..<(r.w * 3) { dst[y * r.w * 3 + i] = s[src + i] }
                }
            }
        }
        return RGBImage(width: r.w, height: r.h, pixels: out)
    }

    /// One panel of the view (before fitting): the windowed X-ray, or a map over it.
    static func panel(_ mode: ImageView.Mode, image: RGBImage, prediction: Prediction?, view: ImageView,
                      colormap: Colormap) -> (RGBImage, String?) {
        // DICOM: window/level on the stored values (modality units), never on the 8-bit opening view.
        let windowed: RGBImage
        if let medical = image.source, medical.color == nil {
            windowed = medical.render(window: view.dicomWindow, inverted: view.window.inverted)
        } else {
            windowed = view.window == .identity ? image : view.window.apply(to: image)
        }
        switch mode {
        case .original, .sideBySide:
            return (crop(windowed, view: view), nil)
        case .gradcam:
            guard let (map, region) = prediction?.shownMap(view.camMethod) else {
                return (crop(windowed, view: view), "\(view.camMethod.title) not ready")
            }
            // A crop classifier's map covers its crop only: drawn there, where the model's box is.
            let over = Overlay.heatmap(map.values, mapWidth: map.width, mapHeight: map.height, over: windowed, in: region,
                                       colormap: colormap, smooth: true)
            return (crop(over, view: view), nil)
        case .attention:
            guard let map = prediction?.attention else { return (crop(windowed, view: view), "attention not ready") }
            let over = Overlay.heatmap(map.values, mapWidth: map.width, mapHeight: map.height, over: windowed,
                                       colormap: colormap, smooth: true)
            return (crop(over, view: view), nil)
        }
    }

    /// The final pixels at most maxWidth×maxHeight (aspect kept), with a note when a map is missing.
    /// `boxes` are the label boxes (none in a blind read); the model's box comes with the prediction.
    public static func render(image: RGBImage, prediction: Prediction?, view: ImageView, colormap: Colormap,
                              maxWidth: Int, maxHeight: Int, background: RGB, pixelAspect: Double = 1,
                              boxes: [LabelBox] = [], modelBoxColor: RGB = RGB(0, 229, 255)) -> (RGBImage, String?)? {
        let overlay = BoxOverlay(labels: view.boxLayers.showsLabels ? boxes : [],
                                 model: view.boxLayers.showsModel ? prediction?.topDetection : nil,
                                 modelColor: modelBoxColor)
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
            out = overlay.draw(on: out, view: view, source: (image.width, image.height), xOffset: 0, width: w)
            out = overlay.draw(on: out, view: view, source: (image.width, image.height), xOffset: w + gap, width: w)
            return (out, note)
        }
        let (source, note) = panel(view.mode, image: image, prediction: prediction, view: view, colormap: colormap)
        let (w, h) = fitted(width: source.width, height: source.height, maxWidth: maxWidth, maxHeight: maxHeight, pixelAspect: pixelAspect)
        guard w > 0, h > 0 else { return nil }
        return (overlay.draw(on: Resize.pilBilinear(source, width: w, height: h), view: view,
                             source: (image.width, image.height)), note)
    }
}
