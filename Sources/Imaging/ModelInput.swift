public enum ModelInput {
    /// torchvision `Resize((height, width))` on the PIL image (bilinear, antialiased) → ToTensor → Normalize.
    /// Returns CHW Float32, channel-major, length 3*height*width.
    ///
    /// The arithmetic is torchvision's, in Float32 and in its order: x/255 (ToTensor), then (x − mean)/std
    /// (Normalize's sub_ then div_), so the result equals PyTorch's up to nothing but the division's rounding.
    public static func tensor(from image: RGBImage, width: Int, height: Int, mean: [Float], std: [Float]) -> [Float] {
        precondition(mean.count == 3 && std.count == 3, "ModelInput: mean and std need 3 values")
        let resized = Resize.pilBilinear(image, width: width, height: height)
        let plane = width * height
        var out = [Float](repeating: 0, count: 3 * plane)
        resized.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    // A 256-entry table per channel: every byte maps to one exact Float32 value.
                    let table = (0..<256).map { (Float($0) / 255 - mean[c]) / std[c] }
                    for i in 0..<plane { dst[c * plane + i] = table[Int(src[i * 3 + c])] }
                }
            }
        }
        return out
    }
}
