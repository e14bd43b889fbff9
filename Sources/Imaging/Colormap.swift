// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.

/// A colour map for heat overlays. `jet` matches OpenCV's COLORMAP_JET (the notebook's); `viridis` is colour-blind safe.
public enum Colormap: String, CaseIterable, Sendable {
    case jet, viridis, inferno, gray
    /// Colour of a value in [0, 1] (clamped).
    public func rgb(_ value: Float) -> (UInt8, UInt8, UInt8) { fatalError("TODO(imaging)") }
}
