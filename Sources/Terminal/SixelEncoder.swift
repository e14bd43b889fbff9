import CSixel
import Imaging

/// Encodes an RGB image as a DEC sixel sequence with libsixel.
/// - A grey image (every pixel R = G = B: the X-ray, windowed or inverted) gets a palette of its own 256 greys,
///   with no dithering: every grey level of the source reaches the screen exactly. (libsixel's automatic palette
///   kept about 30 greys, which bands soft tissue.)
/// - An image with colour (Grad-CAM, attention, boxes) gets libsixel's best palette: full-quality median cut,
///   256 registers (libsixel's maximum).
public enum SixelEncoder {
    private final class Sink { var bytes: [UInt8] = [] }

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
        var dither: OpaquePointer?
        guard sixel_dither_new(&dither, colors, nil) == SIXEL_OK, let dither else { return nil }
        defer { sixel_dither_unref(dither) }
        var pixels = image.pixels
        let grey = image.isGrey && colors == 256
        let ok: Bool = pixels.withUnsafeMutableBufferPointer { buf in
            if grey {
                var palette = [UInt8](repeating: 0, count: 256 * 3)
                for v in 0..<256 { palette[v * 3] = UInt8(v); palette[v * 3 + 1] = UInt8(v); palette[v * 3 + 2] = UInt8(v) }
                palette.withUnsafeMutableBufferPointer { sixel_dither_set_palette(dither, $0.baseAddress) }
                sixel_dither_set_diffusion_type(dither, SIXEL_DIFFUSE_NONE)
                sixel_dither_set_pixelformat(dither, SIXEL_PIXELFORMAT_RGB888)
            } else {
                guard sixel_dither_initialize(dither, buf.baseAddress, Int32(image.width), Int32(image.height),
                                              SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO, SIXEL_REP_AUTO,
                                              SIXEL_QUALITY_FULL) == SIXEL_OK else { return false }
            }
            return sixel_encode(buf.baseAddress, Int32(image.width), Int32(image.height), 3, dither, output) == SIXEL_OK
        }
        return ok ? sink.bytes : nil
    }
}
