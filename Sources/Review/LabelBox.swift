/// One label line's box: its class and the normalised centre and size (YOLO `class cx cy w h`).
public struct LabelBox: Sendable, Equatable {
    public let classIndex: Int
    public let cx: Double, cy: Double, w: Double, h: Double
    public init(classIndex: Int, cx: Double, cy: Double, w: Double, h: Double) {
        self.classIndex = classIndex; self.cx = cx; self.cy = cy; self.w = w; self.h = h
    }
    public var x0: Double { cx - w / 2 }
    public var x1: Double { cx + w / 2 }
    public var y0: Double { cy - h / 2 }
    public var y1: Double { cy + h / 2 }
}

/// Does the CAM point at the fracture? (the pointing game, Zhang et al.; Quantus `PointingGame`)
public enum PointingGame {
    /// The map's maximum, the first in row-major order on ties.
    public static func peak(_ values: [Float], width: Int) -> (row: Int, col: Int)? {
        guard width > 0, !values.isEmpty else { return nil }
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return (best / width, best % width)
    }

    /// A hit when the cell of the map's maximum, mapped back to the image as the rectangle it covers, overlaps a box.
    /// nil without boxes. (training/evaluate.py `pointing_hit` computes the same.)
    public static func hit(_ values: [Float], width: Int, height: Int, boxes: [LabelBox]) -> Bool? {
        guard !boxes.isEmpty, let (r, c) = peak(values, width: width) else { return nil }
        let x0 = Double(c) / Double(width), x1 = Double(c + 1) / Double(width)
        let y0 = Double(r) / Double(height), y1 = Double(r + 1) / Double(height)
        return boxes.contains { x0 < $0.x1 && $0.x0 < x1 && y0 < $0.y1 && $0.y0 < y1 }
    }

    /// The share of the map's mass in cells whose centre lies inside a box; nil without boxes or mass.
    public static func massInBoxes(_ values: [Float], width: Int, height: Int, boxes: [LabelBox]) -> Double? {
        guard !boxes.isEmpty else { return nil }
        var total = 0.0, inside = 0.0
        for r in 0..<height {
            for c in 0..<width {
                let v = Double(values[r * width + c])
                total += v
                let x = (Double(c) + 0.5) / Double(width), y = (Double(r) + 0.5) / Double(height)
                if boxes.contains(where: { $0.x0 <= x && x <= $0.x1 && $0.y0 <= y && y <= $0.y1 }) { inside += v }
            }
        }
        return total > 0 ? inside / total : nil
    }
}
