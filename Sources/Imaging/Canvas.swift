// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.

/// A drawing surface for report figures (the gradcam panels, confusion-matrix and reliability PNGs).
public struct Canvas: Sendable {
    public private(set) var image: RGBImage
    public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) { fatalError("TODO(imaging)") }
    public mutating func fillRect(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) { fatalError("TODO(imaging)") }
    public mutating func draw(_ image: RGBImage, x: Int, y: Int) { fatalError("TODO(imaging)") }
    /// Draws ASCII text with a built-in bitmap font; `scale` multiplies the glyph size (8 px per scale unit high).
    public mutating func text(_ string: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8) = (0, 0, 0), scale: Int = 1) { fatalError("TODO(imaging)") }
    public static func textWidth(_ string: String, scale: Int = 1) -> Int { fatalError("TODO(imaging)") }
}
