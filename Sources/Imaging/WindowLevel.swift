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

    /// Applies the window, then the inversion. A grey pixel goes through the window; a coloured one keeps its hue:
    /// the window acts on its luminance (Rec. 601) and its three channels scale by one factor (a colour DICOM, an
    /// annotated JPEG). The inversion is per channel, a negative, as for any colour image.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .identity { return image }
        var upright = self
        upright.inverted = false
        let table = upright.lut
        let windowIsIdentity = table.indices.allSatisfy { table[$0] == UInt8($0) }
        var out = image.pixels
        out.withUnsafeMutableBufferPointer { px in
            var i = 0
            while i + 2 < px.count {
                let r = px[i], g = px[i + 1], b = px[i + 2]
                if windowIsIdentity {
                    // nothing to do but the inversion
                } else if r == g && g == b {
                    let v = table[Int(r)]
                    px[i] = v; px[i + 1] = v; px[i + 2] = v
                } else {
                    let y = 0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b)
                    let target = Double(upright.map(y))
                    if y <= 0 {
                        px[i] = UInt8(target); px[i + 1] = UInt8(target); px[i + 2] = UInt8(target)
                    } else {
                        let k = target / y
                        for c in 0..<3 { px[i + c] = UInt8(min(255, (Double(px[i + c]) * k).rounded())) }
                    }
                }
                if inverted { px[i] = 255 - px[i]; px[i + 1] = 255 - px[i + 1]; px[i + 2] = 255 - px[i + 2] }
                i += 3
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: out)
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
