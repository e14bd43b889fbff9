/// A colour map for heat overlays. `jet` matches OpenCV's COLORMAP_JET (the notebook's); `viridis` is colour-blind safe.
///
/// Every map is a 256-entry lookup table indexed the notebook's way: a value v becomes the byte
/// `np.uint8(255 * v)` (Float32 product, truncated; values are clamped to [0, 1] first, NaN counts as 0).
public enum Colormap: String, CaseIterable, Sendable {
    case jet, viridis, inferno, gray

    /// Colour of a value in [0, 1] (clamped).
    public func rgb(_ value: Float) -> (UInt8, UInt8, UInt8) {
        let i = Colormap.index(value) * 3
        let table = lut
        return (table[i], table[i + 1], table[i + 2])
    }

    /// The lookup table: 256 RGB triples, 768 bytes.
    public var lut: [UInt8] {
        switch self {
        case .jet: return Colormap.jetTable
        case .viridis: return ColormapTables.viridis
        case .inferno: return ColormapTables.inferno
        case .gray: return Colormap.grayTable
        }
    }

    /// The byte a map value becomes, as `np.uint8(255 * v)` after clamping to [0, 1].
    @inline(__always)
    public static func index(_ value: Float) -> Int {
        guard value > 0 else { return 0 }                 // also NaN
        return value >= 1 ? 255 : Int(value * 255)        // Int() truncates, as the uint8 cast does
    }

    private static let grayTable: [UInt8] = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }

    /// OpenCV builds COLORMAP_JET from 256 key points of Octave's jet, re-interpolates them at
    /// linspace(0, 1, 256) in Float32 (interp1) and converts with `convertTo(CV_8U, 255)` (round half to even).
    /// The Float32 steps are reproduced here, so ties land on the same byte as OpenCV's.
    private static let jetTable: [UInt8] = {
        let step: Float = 1 / 255
        let x = (0..<256).map { Float(0) + Float($0) * step }
        var table = [UInt8](repeating: 0, count: 768)
        // Octave's jet: channel = clamp(min(4t − k, 3 + k − 4t)), k = 1.5 (red), 0.5 (green), −0.5 (blue).
        for (channel, k) in [1.5, 0.5, -0.5].enumerated() {
            let keys = (0..<256).map { i -> Float in
                let t = Double(i) / 255
                return Float(min(max(min(4 * t - k, 3 + k - 4 * t), 0), 1))
            }
            for i in 0..<256 {
                let v = i == 0 ? keys[0] : keys[i - 1] + (x[i] - x[i - 1]) * (keys[i] - keys[i - 1]) / (x[i] - x[i - 1])
                let scaled = (v * 255).rounded(.toNearestOrEven)
                table[i * 3 + channel] = UInt8(min(max(scaled, 0), 255))
            }
        }
        return table
    }()
}
