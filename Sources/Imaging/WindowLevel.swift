// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.

/// A linear VOI window (DICOM formula) over 8-bit values; `center`/`width` in pixel units (0…255).
public struct WindowLevel: Equatable, Sendable {
    public var center: Float
    public var width: Float
    public var inverted: Bool
    public init(center: Float = 127.5, width: Float = 256, inverted: Bool = false) {
        self.center = center; self.width = width; self.inverted = inverted
    }
    public static let identity = WindowLevel()
    /// Applies the window (and inversion) to every channel.
    public func apply(to image: RGBImage) -> RGBImage { fatalError("TODO(imaging)") }
}
