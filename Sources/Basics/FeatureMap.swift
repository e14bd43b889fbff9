/// A 2-D map at feature resolution (7×7 for B4 at 224), row-major: the attention gate, the Grad-CAM and the
/// pointing game's view of the boxes all use it, from the head to the cache, the figures and the screen.
public struct FeatureMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let values: [Float]
    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "FeatureMap: \(values.count) values for \(width)×\(height)")
        self.width = width; self.height = height; self.values = values
    }

    /// Scaled to [0, 1] by its own minimum and maximum (matplotlib's imshow default), with the range it had.
    public func normalized() -> (map: FeatureMap, min: Float, max: Float) {
        let finite = values.filter { $0.isFinite }
        let lo = finite.min() ?? 0, hi = finite.max() ?? 0
        let span = hi - lo
        let scaled = values.map { v -> Float in v.isFinite && span > 0 ? (v - lo) / span : 0 }
        return (FeatureMap(width: width, height: height, values: scaled), lo, hi)
    }
}
