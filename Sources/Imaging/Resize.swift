// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.

public enum Resize {
    /// Exactly PIL's `Image.resize((width, height), Image.BILINEAR)` (with its antialiasing support when shrinking).
    public static func pilBilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage { fatalError("TODO(imaging)") }
    /// Bilinear upsampling of a small float map (e.g. a 7×7 CAM) to width×height, as cv2.resize(INTER_LINEAR) does.
    public static func map(_ values: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] { fatalError("TODO(imaging)") }
}
