// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.

public enum Overlay {
    /// The notebook's display: the map resized to the image, coloured, blended 0.6·image + 0.4·heat.
    public static func heatmap(_ map: [Float], mapWidth: Int, mapHeight: Int, over image: RGBImage,
                               colormap: Colormap = .jet, imageWeight: Float = 0.6) -> RGBImage { fatalError("TODO(imaging)") }
    /// The map alone, resized to width×height and coloured (for the attention view).
    public static func colored(_ map: [Float], mapWidth: Int, mapHeight: Int, width: Int, height: Int,
                               colormap: Colormap = .jet) -> RGBImage { fatalError("TODO(imaging)") }
}
