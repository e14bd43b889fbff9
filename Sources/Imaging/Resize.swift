public enum Resize {
    /// Exactly PIL's `Image.resize((width, height), Image.BILINEAR)` on an 8-bit RGB image (Pillow's
    /// ImagingResample): a separable triangle filter whose support grows with the shrink factor (antialiasing),
    /// coefficients normalised per output pixel and rounded to 22-bit fixed point, a horizontal pass then a
    /// vertical pass with the intermediate rounded and clipped to 8 bits. A pass whose dimension is unchanged
    /// is skipped, as PIL skips it. Sizes below 1 are treated as 1.
    public static func pilBilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let width = max(1, width), height = max(1, height)
        if width == image.width && height == image.height { return image }
        var current = image
        if width != image.width {
            current = resampleRows(current, to: width)
        }
        if height != image.height {
            current = resampleColumns(current, to: height)
        }
        return current
    }

    /// Bilinear resampling of a small float map (e.g. a 7×7 CAM) to toWidth×toHeight, as OpenCV's
    /// `cv2.resize(map, (toWidth, toHeight), interpolation=INTER_LINEAR)` does for float32: pixel centres are
    /// aligned (source x = (dx + 0.5)·w/toWidth − 0.5), and samples outside the map clamp to its edge.
    /// No antialiasing when shrinking (neither does OpenCV's INTER_LINEAR). `values` is row-major width×height.
    public static func map(_ values: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
        precondition(values.count == width * height && width > 0 && height > 0, "Resize.map: size mismatch")
        guard toWidth > 0, toHeight > 0 else { return [] }
        let xs = linearTaps(source: width, destination: toWidth)
        let ys = linearTaps(source: height, destination: toHeight)
        var out = [Float](repeating: 0, count: toWidth * toHeight)
        for dy in 0..<toHeight {
            let (y0, y1, fy) = ys[dy]
            let row0 = y0 * width, row1 = y1 * width
            for dx in 0..<toWidth {
                let (x0, x1, fx) = xs[dx]
                let top = values[row0 + x0] * (1 - fx) + values[row0 + x1] * fx
                let bottom = values[row1 + x0] * (1 - fx) + values[row1 + x1] * fx
                out[dy * toWidth + dx] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }

    /// Cubic B-spline resampling of a small float map for display (pixel centres aligned, edges clamped). Its
    /// weights are never negative, so it stays within the map's range without clipping, and its slope and curvature
    /// are continuous: a 7×7 CAM shows smooth blobs where bilinear shows creased diamonds. (It smooths slightly:
    /// it approximates the cell values rather than passing through them.)
    public static func mapSmooth(_ values: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
        precondition(values.count == width * height && width > 0 && height > 0, "Resize.mapSmooth: size mismatch")
        guard toWidth > 0, toHeight > 0 else { return [] }
        let lo = values.min() ?? 0, hi = values.max() ?? 0
        func taps(_ source: Int, _ destination: Int) -> [(Int, [Float])] {
            let scale = Double(source) / Double(destination)
            return (0..<destination).map { d in
                let x = (Double(d) + 0.5) * scale - 0.5
                let x0 = Int(x.rounded(.down))
                let t = Float(x - Double(x0))
                func k(_ v: Float) -> Float {
                    let v = abs(v)
                    if v < 1 { return 2.0 / 3 - v * v + v * v * v / 2 }
                    if v < 2 { return (2 - v) * (2 - v) * (2 - v) / 6 }
                    return 0
                }
                return (x0 - 1, [k(1 + t), k(t), k(1 - t), k(2 - t)])
            }
        }
        let xs = taps(width, toWidth), ys = taps(height, toHeight)
        var out = [Float](repeating: 0, count: toWidth * toHeight)
        for dy in 0..<toHeight {
            let (y0, wy) = ys[dy]
            for dx in 0..<toWidth {
                let (x0, wx) = xs[dx]
                var acc: Float = 0
                for j in 0..<4 {
                    let row = min(max(y0 + j, 0), height - 1) * width
                    var r: Float = 0
                    for i in 0..<4 { r += values[row + min(max(x0 + i, 0), width - 1)] * wx[i] }
                    acc += r * wy[j]
                }
                out[dy * toWidth + dx] = min(max(acc, lo), hi)
            }
        }
        return out
    }

    // MARK: - OpenCV INTER_LINEAR taps

    private static func linearTaps(source: Int, destination: Int) -> [(Int, Int, Float)] {
        let scale = Double(source) / Double(destination)
        return (0..<destination).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if s < 0 { s = 0; f = 0 }
            if s >= source - 1 { s = source - 1; f = 0 }
            return (s, min(s + 1, source - 1), f)
        }
    }

    // MARK: - PIL resampling

    /// Fixed-point bits of PIL's 8-bit resampler: 32 bits minus 8 for the sample minus 2 for overshoot.
    static let precisionBits = 32 - 8 - 2

    /// One output pixel's window: the first input index, and one weight per input pixel from there.
    struct Window {
        let first: Int
        let weights: [Int32]
    }

    /// PIL's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle, support 1) filter.
    static func windows(inSize: Int, outSize: Int) -> [Window] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale
        let inverse = 1.0 / filterScale
        let one = Double(1 << precisionBits)
        return (0..<outSize).map { xx in
            let center = (Double(xx) + 0.5) * scale
            // C's (int) cast truncates toward zero; Int(Double) does the same.
            let xmin = max(0, Int(center - support + 0.5))
            let xmax = min(inSize, Int(center + support + 0.5))
            var weights = [Double]()
            weights.reserveCapacity(max(0, xmax - xmin))
            var total = 0.0
            for x in 0..<max(0, xmax - xmin) {
                let w = triangle((Double(x + xmin) - center + 0.5) * inverse)
                weights.append(w)
                total += w
            }
            let fixed = weights.map { w -> Int32 in
                let k = total != 0 ? w / total : w
                return k < 0 ? Int32(-0.5 + k * one) : Int32(0.5 + k * one)
            }
            return Window(first: xmin, weights: fixed)
        }
    }

    private static func triangle(_ x: Double) -> Double {
        let a = abs(x)
        return a < 1.0 ? 1.0 - a : 0.0
    }

    /// Rounds a fixed-point sum (which already holds the +0.5 bias) to a byte, clipping as PIL's clip8 does.
    @inline(__always)
    private static func clip8(_ sum: Int) -> UInt8 {
        let v = sum >> precisionBits
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(v))
    }

    private static func resampleRows(_ image: RGBImage, to outWidth: Int) -> RGBImage {
        let plan = windows(inSize: image.width, outSize: outWidth)
        let bias = 1 << (precisionBits - 1)
        var out = [UInt8](repeating: 0, count: outWidth * image.height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let rowIn = y * image.width * 3, rowOut = y * outWidth * 3
                    for xx in 0..<outWidth {
                        let window = plan[xx]
                        var r = bias, g = bias, b = bias
                        var p = rowIn + window.first * 3
                        for k in window.weights {
                            let w = Int(k)
                            r += Int(src[p]) * w
                            g += Int(src[p + 1]) * w
                            b += Int(src[p + 2]) * w
                            p += 3
                        }
                        dst[rowOut + xx * 3] = clip8(r)
                        dst[rowOut + xx * 3 + 1] = clip8(g)
                        dst[rowOut + xx * 3 + 2] = clip8(b)
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: image.height, pixels: out)
    }

    private static func resampleColumns(_ image: RGBImage, to outHeight: Int) -> RGBImage {
        let plan = windows(inSize: image.height, outSize: outHeight)
        let bias = 1 << (precisionBits - 1)
        let stride = image.width * 3
        var out = [UInt8](repeating: 0, count: stride * outHeight)
        var sums = [Int](repeating: 0, count: stride)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                sums.withUnsafeMutableBufferPointer { acc in
                    for yy in 0..<outHeight {
                        let window = plan[yy]
                        for i in 0..<stride { acc[i] = bias }
                        var row = window.first * stride
                        for k in window.weights {
                            let w = Int(k)
                            for i in 0..<stride { acc[i] += Int(src[row + i]) * w }
                            row += stride
                        }
                        let base = yy * stride
                        for i in 0..<stride { dst[base + i] = clip8(acc[i]) }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: outHeight, pixels: out)
    }
}
