// Small conveniences on RGBImage for the TUI and the report figures.

extension RGBImage {
    /// A width×height image filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[i * 3] = fill.0
            pixels[i * 3 + 1] = fill.1
            pixels[i * 3 + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let p = (y * width + x) * 3
        return (pixels[p], pixels[p + 1], pixels[p + 2])
    }

    /// The largest size with this image's aspect ratio that fits in maxWidth×maxHeight (at least 1×1).
    public func fittedSize(maxWidth: Int, maxHeight: Int) -> (width: Int, height: Int) {
        guard width > 0, height > 0 else { return (max(1, maxWidth), max(1, maxHeight)) }
        let scale = min(Double(maxWidth) / Double(width), Double(maxHeight) / Double(height))
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }

    /// Resized (PIL bilinear) to fit in maxWidth×maxHeight, keeping the aspect ratio.
    public func fitted(maxWidth: Int, maxHeight: Int) -> RGBImage {
        let size = fittedSize(maxWidth: maxWidth, maxHeight: maxHeight)
        return Resize.pilBilinear(self, width: size.width, height: size.height)
    }

    /// Luma as PIL's convert("L") computes it (ITU-R 601-2, L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16).
    public func grayscale() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            let r = Int(pixels[i * 3]), g = Int(pixels[i * 3 + 1]), b = Int(pixels[i * 3 + 2])
            out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
        return out
    }
}
