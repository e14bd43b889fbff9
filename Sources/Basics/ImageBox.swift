/// A rectangle on an image in normalised coordinates (0…1 across and down), corner form. One type for the
/// dataset's label boxes and the localiser's detections, so that one overlay draws both and one set of metrics
/// scores them.
public struct ImageBox: Sendable, Equatable, Hashable {
    public var x0: Double, y0: Double, x1: Double, y1: Double
    public init(x0: Double, y0: Double, x1: Double, y1: Double) { self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1 }
    public init(cx: Double, cy: Double, w: Double, h: Double) {
        self.init(x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2)
    }

    public var width: Double { x1 - x0 }
    public var height: Double { y1 - y0 }
    public var area: Double { max(width, 0) * max(height, 0) }
    public var centre: (x: Double, y: Double) { ((x0 + x1) / 2, (y0 + y1) / 2) }

    /// Finite, inside the image (a little slack for rounding) and of positive size: what may be drawn or cropped.
    public var isUsable: Bool {
        [x0, y0, x1, y1].allSatisfy { $0.isFinite && $0 >= -1e-6 && $0 <= 1 + 1e-6 } && x1 > x0 && y1 > y0
    }

    public func contains(x: Double, y: Double) -> Bool { x0 <= x && x <= x1 && y0 <= y && y <= y1 }

    /// Intersection over union; 0 when either box is empty.
    public func iou(_ other: ImageBox) -> Double {
        let ix = max(0, min(x1, other.x1) - max(x0, other.x0))
        let iy = max(0, min(y1, other.y1) - max(y0, other.y0))
        let inter = ix * iy
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }

    /// The box in pixels of a width × height image, [x0, y0, x1, y1].
    public func pixels(width: Int, height: Int) -> [Double] {
        [x0 * Double(width), y0 * Double(height), x1 * Double(width), y1 * Double(height)]
    }
}
