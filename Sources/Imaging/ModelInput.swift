// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.

public enum ModelInput {
    /// torchvision `Resize((height, width))` on the PIL image (bilinear, antialiased) → ToTensor → Normalize.
    /// Returns CHW Float32, channel-major, length 3*height*width.
    public static func tensor(from image: RGBImage, width: Int, height: Int, mean: [Float], std: [Float]) -> [Float] {
        fatalError("TODO(imaging)")
    }
}
