import Basics
import Model

/// Does the CAM point at the fracture? (the pointing game, Zhang et al.; Quantus `PointingGame`)
/// The map and the boxes meet in the image's normalised coordinates: cell (r, c) of a w×h map covers
/// [c/w, (c+1)/w] × [r/h, (r+1)/h].
public enum PointingGame {
    /// The map's maximum, the first in row-major order on ties.
    public static func peak(_ map: FeatureMap) -> (row: Int, col: Int)? {
        guard map.width > 0, !map.values.isEmpty else { return nil }
        var best = 0
        for i in map.values.indices where map.values[i] > map.values[best] { best = i }
        return (best / map.width, best % map.width)
    }

    /// A hit when the cell of the map's maximum, mapped back to the image as the rectangle it covers, overlaps a box.
    /// nil without boxes. (training/evaluate.py `pointing_hit` computes the same.)
    /// `region`: the part of the image the map covers (a crop classifier's crop), the whole image by default.
    public static func hit(_ map: FeatureMap, boxes: [ImageBox], region: ImageBox = ImageBox(x0: 0, y0: 0, x1: 1, y1: 1)) -> Bool? {
        guard !boxes.isEmpty, let (r, c) = peak(map) else { return nil }
        let x0 = region.x0 + Double(c) / Double(map.width) * region.width
        let x1 = region.x0 + Double(c + 1) / Double(map.width) * region.width
        let y0 = region.y0 + Double(r) / Double(map.height) * region.height
        let y1 = region.y0 + Double(r + 1) / Double(map.height) * region.height
        return boxes.contains { x0 < $0.x1 && $0.x0 < x1 && y0 < $0.y1 && $0.y0 < y1 }
    }

    /// The share of the map's mass in cells whose centre lies inside a box; nil without boxes or mass.
    public static func massInBoxes(_ map: FeatureMap, boxes: [ImageBox]) -> Double? {
        guard !boxes.isEmpty else { return nil }
        var total = 0.0, inside = 0.0
        for r in 0..<map.height {
            for c in 0..<map.width {
                let v = Double(map.values[r * map.width + c])
                total += v
                let x = (Double(c) + 0.5) / Double(map.width), y = (Double(r) + 0.5) / Double(map.height)
                if boxes.contains(where: { $0.contains(x: x, y: y) }) { inside += v }
            }
        }
        return total > 0 ? inside / total : nil
    }
}
