import CSixel
import Imaging

/// Encodes an RGB image as a DEC sixel sequence with libsixel.
/// - A grey image (every pixel R = G = B: the X-ray, windowed or inverted), or a grey image with a few overlay
///   colours on it (the label and model boxes, a scale mark: at most `overlayColours` distinct non-grey colours), is
///   sent as an indexed image: the 101 greys a sixel register can carry (register colours are percentages, DEC's
///   format), then one register per overlay colour, with no dithering. Every grey pixel is shown at the level
///   nearest its grey. (libsixel's median cut kept 32 greys on the X-ray with its box drawn, which bands soft
///   tissue.)
/// - An image with more colour than that (Grad-CAM, attention) gets libsixel's high-quality palette: median cut over
///   the whole image, 256 registers (libsixel's maximum).
public enum SixelEncoder {
    private final class Sink { var bytes: [UInt8] = [] }

    /// Grey registers: 0 %, 1 %, … 100 %.
    static let levels = 101
    /// The most non-grey colours a frame may carry and still be sent on the grey path: the rest of libsixel's 256.
    static let overlayColours = 256 - levels
    /// The register of each 8-bit grey: the nearest percent.
    static let register: [UInt8] = (0..<256).map { UInt8((Double($0) * Double(levels - 1) / 255).rounded()) }

    /// The frame as palette indices over the 101 greys and its overlay colours, or nil when it has more than
    /// `overlayColours` distinct non-grey colours (then it is a colour image).
    static func greyIndexed(_ image: RGBImage) -> (indices: [UInt8], palette: [UInt8])? {
        var palette = [UInt8](repeating: 0, count: levels * 3)
        for i in 0..<levels {
            let v = UInt8((Double(i) * 255 / Double(levels - 1)).rounded())
            palette[i * 3] = v; palette[i * 3 + 1] = v; palette[i * 3 + 2] = v
        }
        var overlay: [Int: UInt8] = [:]
        var indices = [UInt8](repeating: 0, count: image.width * image.height)
        let fits = image.pixels.withUnsafeBufferPointer { px -> Bool in
            for i in indices.indices {
                let r = px[i * 3], g = px[i * 3 + 1], b = px[i * 3 + 2]
                if r == g && g == b { indices[i] = Self.register[Int(r)]; continue }
                let key = Int(r) << 16 | Int(g) << 8 | Int(b)
                if let k = overlay[key] { indices[i] = k; continue }
                guard overlay.count < overlayColours else { return false }
                let k = UInt8(levels + overlay.count)
                overlay[key] = k
                palette += [r, g, b]
                indices[i] = k
            }
            return true
        }
        return fits ? (indices, palette) : nil
    }

    /// Returns the complete DCS … ST sequence, or nil if libsixel fails.
    public static func encode(_ image: RGBImage, colors: Int32 = 256) -> [UInt8]? {
        guard image.width > 0, image.height > 0 else { return nil }
        let sink = Sink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        var output: OpaquePointer?
        let writeCallback: sixel_write_function = { data, size, priv in
            guard let data, let priv else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(priv).takeUnretainedValue()
            data.withMemoryRebound(to: UInt8.self, capacity: Int(size)) { p in
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: Int(size)))
            }
            return size
        }
        guard sixel_output_new(&output, writeCallback, context.toOpaque(), nil) == SIXEL_OK, let output else { return nil }
        defer { sixel_output_unref(output) }
        let ok: Bool
        if colors == 256, var (indices, palette) = greyIndexed(image) {
            // Every pixel goes to its own register, exactly, with no search and no dithering.
            var greys: OpaquePointer?
            guard sixel_dither_new(&greys, Int32(palette.count / 3), nil) == SIXEL_OK, let greys else { return nil }
            defer { sixel_dither_unref(greys) }
            palette.withUnsafeMutableBufferPointer { sixel_dither_set_palette(greys, $0.baseAddress) }
            sixel_dither_set_pixelformat(greys, SIXEL_PIXELFORMAT_PAL8)
            ok = indices.withUnsafeMutableBufferPointer { buf in
                sixel_encode(buf.baseAddress, Int32(image.width), Int32(image.height), 1, greys, output) == SIXEL_OK
            }
        } else {
            var dither: OpaquePointer?
            guard sixel_dither_new(&dither, colors, nil) == SIXEL_OK, let dither else { return nil }
            defer { sixel_dither_unref(dither) }
            var pixels = image.pixels
            ok = pixels.withUnsafeMutableBufferPointer { buf in
                // High quality (median cut over the whole image), 256 registers; "full" quality was 8× slower for
                // no visible gain on a CAM overlay.
                guard sixel_dither_initialize(dither, buf.baseAddress, Int32(image.width), Int32(image.height),
                                              SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO, SIXEL_REP_AUTO,
                                              SIXEL_QUALITY_HIGH) == SIXEL_OK else { return false }
                return sixel_encode(buf.baseAddress, Int32(image.width), Int32(image.height), 3, dither, output) == SIXEL_OK
            }
        }
        return ok ? sink.bytes : nil
    }
}
