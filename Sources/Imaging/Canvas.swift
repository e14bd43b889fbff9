/// A drawing surface for report figures (the gradcam panels, confusion-matrix and reliability PNGs).
/// Everything is clipped to the canvas: drawing partly or wholly outside it is safe.
public struct Canvas: Sendable {
    public private(set) var image: RGBImage
    public var width: Int { image.width }
    public var height: Int { image.height }

    public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        let w = max(0, width), h = max(0, height)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) {
            pixels[i * 3] = background.0
            pixels[i * 3 + 1] = background.1
            pixels[i * 3 + 2] = background.2
        }
        image = RGBImage(width: w, height: h, pixels: pixels)
    }

    /// Draws over an existing image.
    public init(image: RGBImage) { self.image = image }

    public mutating func fillRect(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(image.width, x + width), y1 = min(image.height, y + height)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 {
            var p = (yy * image.width + x0) * 3
            for _ in x0..<x1 {
                image.pixels[p] = color.0
                image.pixels[p + 1] = color.1
                image.pixels[p + 2] = color.2
                p += 3
            }
        }
    }

    /// A one-pixel (or `thickness`) outline.
    public mutating func strokeRect(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8),
                                    thickness: Int = 1) {
        fillRect(x: x, y: y, width: width, height: thickness, color: color)
        fillRect(x: x, y: y + height - thickness, width: width, height: thickness, color: color)
        fillRect(x: x, y: y, width: thickness, height: height, color: color)
        fillRect(x: x + width - thickness, y: y, width: thickness, height: height, color: color)
    }

    /// A dashed outline: dashes of `dash` pixels with gaps as long, `thickness` wide, starting at each corner so
    /// that the corners are always drawn.
    public mutating func strokeDashedRect(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8),
                                          thickness: Int = 1, dash: Int = 6) {
        let d = max(1, dash)
        var i = 0
        while i < width {
            let len = min(d, width - i)
            fillRect(x: x + i, y: y, width: len, height: thickness, color: color)
            fillRect(x: x + width - i - len, y: y + height - thickness, width: len, height: thickness, color: color)
            i += 2 * d
        }
        i = 0
        while i < height {
            let len = min(d, height - i)
            fillRect(x: x, y: y + i, width: thickness, height: len, color: color)
            fillRect(x: x + width - thickness, y: y + height - i - len, width: thickness, height: len, color: color)
            i += 2 * d
        }
    }

    /// `strokeDashedRect` over a one-pixel dark rim around each dash, which keeps it visible on bright and on dark
    /// pixels alike (the model's box on an X-ray).
    public mutating func strokeDashedRectWithRim(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8),
                                                 thickness: Int = 1, dash: Int = 6) {
        strokeDashedRect(x: x - 1, y: y - 1, width: width + 2, height: height + 2, color: (0, 0, 0), thickness: thickness + 2,
                         dash: dash)
        strokeDashedRect(x: x, y: y, width: width, height: height, color: color, thickness: thickness, dash: dash)
    }

    /// A straight line (Bresenham), for plot axes and curves.
    public mutating func line(from start: (x: Int, y: Int), to end: (x: Int, y: Int), color: (UInt8, UInt8, UInt8)) {
        var x = start.x, y = start.y
        let dx = abs(end.x - x), dy = -abs(end.y - y)
        let sx = x < end.x ? 1 : -1, sy = y < end.y ? 1 : -1
        var error = dx + dy
        while true {
            setPixel(x: x, y: y, color: color)
            if x == end.x && y == end.y { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    public mutating func setPixel(x: Int, y: Int, color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        let p = (y * image.width + x) * 3
        image.pixels[p] = color.0
        image.pixels[p + 1] = color.1
        image.pixels[p + 2] = color.2
    }

    public mutating func draw(_ source: RGBImage, x: Int, y: Int) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(image.width, x + source.width), y1 = min(image.height, y + source.height)
        guard x0 < x1, y0 < y1 else { return }
        let count = (x1 - x0) * 3
        for yy in y0..<y1 {
            let from = ((yy - y) * source.width + (x0 - x)) * 3
            let to = (yy * image.width + x0) * 3
            image.pixels.replaceSubrange(to..<(to + count), with: source.pixels[from..<(from + count)])
        }
    }

    /// Draws ASCII text with a built-in bitmap font; `scale` multiplies the glyph size (8 px per scale unit high).
    /// Characters outside printable ASCII are drawn as `?`; `\n` starts a new line 9·scale pixels lower.
    public mutating func text(_ string: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8) = (0, 0, 0), scale: Int = 1) {
        let scale = max(1, scale)
        var penX = x, penY = y
        for scalar in string.unicodeScalars {
            if scalar == "\n" {
                penX = x
                penY += Canvas.lineHeight(scale: scale)
                continue
            }
            let code = (32...126).contains(scalar.value) ? Int(scalar.value) : Int(("?" as Unicode.Scalar).value)
            let base = (code - 32) * BitmapFont.glyphHeight
            for row in 0..<BitmapFont.glyphHeight {
                let bits = BitmapFont.rows[base + row]
                if bits == 0 { continue }
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(column)) != 0 {
                    fillRect(x: penX + column * scale, y: penY + row * scale, width: scale, height: scale, color: color)
                }
            }
            penX += BitmapFont.advance * scale
        }
    }

    /// Width in pixels of the longest line of `string` as `text` draws it (no trailing spacing column).
    public static func textWidth(_ string: String, scale: Int = 1) -> Int {
        let scale = max(1, scale)
        let longest = string.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.unicodeScalars.count }.max() ?? 0
        return longest == 0 ? 0 : (longest * BitmapFont.advance - 1) * scale
    }

    /// Height of one text line, spacing included (8·scale glyph + 1·scale gap).
    public static func lineHeight(scale: Int = 1) -> Int { (BitmapFont.glyphHeight + 1) * max(1, scale) }

    /// Draws `string` centred horizontally on `centerX`.
    public mutating func text(_ string: String, centeredAt centerX: Int, y: Int, color: (UInt8, UInt8, UInt8) = (0, 0, 0),
                              scale: Int = 1) {
        text(string, x: centerX - Canvas.textWidth(string, scale: scale) / 2, y: y, color: color, scale: scale)
    }

    /// Truncates `string` with "..." so that it fits in `width` pixels.
    public static func fitting(_ string: String, width: Int, scale: Int = 1) -> String {
        if textWidth(string, scale: scale) <= width { return string }
        var scalars = Array(string.unicodeScalars)
        while !scalars.isEmpty {
            scalars.removeLast()
            let candidate = String(String.UnicodeScalarView(scalars)) + "..."
            if textWidth(candidate, scale: scale) <= width { return candidate }
        }
        return ""
    }
}
