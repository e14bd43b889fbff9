/// A linear VOI window (DICOM formula) over 8-bit values; `center`/`width` in pixel units (0…255).
///
/// DICOM PS3.3 C.11.2.1.2.1: with centre c and width w, x ≤ c − 0.5 − (w − 1)/2 → 0,
/// x > c − 0.5 + (w − 1)/2 → 255, otherwise y = ((x − (c − 0.5)) / (w − 1) + 0.5) · 255.
/// y is truncated to a byte, so the identity window (127.5, 256) maps every value to itself; a width ≤ 1
/// is a threshold at c − 0.5. Inversion (MONOCHROME1-style) is 255 − y, applied after the window.
public struct WindowLevel: Equatable, Sendable {
    public var center: Float
    public var width: Float
    public var inverted: Bool
    public init(center: Float = 127.5, width: Float = 256, inverted: Bool = false) {
        self.center = center; self.width = width; self.inverted = inverted
    }
    public static let identity = WindowLevel()

    /// Applies the window (and inversion) to every channel.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .identity { return image }
        let table = lut
        return RGBImage(width: image.width, height: image.height, pixels: image.pixels.map { table[Int($0)] })
    }

    /// The output byte of an input byte.
    public func value(_ x: UInt8) -> UInt8 { map(Double(x)) }

    /// The output byte of any value in the window's units (8-bit levels, or a DICOM image's modality values).
    public func map(_ v: Double) -> UInt8 {
        let c = Double(center), w = Double(width)
        var y: Double
        if w <= 1 {
            y = v > c - 0.5 ? 255 : 0
        } else if v <= c - 0.5 - (w - 1) / 2 {
            y = 0
        } else if v > c - 0.5 + (w - 1) / 2 {
            y = 255
        } else {
            y = ((v - (c - 0.5)) / (w - 1) + 0.5) * 255
        }
        // The epsilon keeps exact results (e.g. DICOM's identity window 128/256: y = x) from flooring one below.
        y = min(max(y + 1e-9, 0), 255).rounded(.down)
        return inverted ? 255 - UInt8(y) : UInt8(y)
    }

    /// All 256 outputs.
    public var lut: [UInt8] { (0..<256).map { value(UInt8($0)) } }

    /// The window that stretches [low, high] to the full range (e.g. from a region's percentiles).
    public static func stretching(low: Float, high: Float, inverted: Bool = false) -> WindowLevel {
        let w = max(1, high - low + 1)
        return WindowLevel(center: low + 0.5 + (w - 1) / 2, width: w, inverted: inverted)
    }
}
