import CSixel
import Imaging

/// Encodes an RGB image as a DEC sixel sequence with libsixel.
/// - A grey image (every pixel R = G = B: the X-ray, windowed or inverted) is sent as an indexed image over the
///   101 greys a sixel register can carry (register colours are percentages, DEC's format), with no dithering:
///   every pixel is shown at the level nearest its grey. (libsixel's automatic palette kept about 30 greys, which
///   bands soft tissue.)
/// - An image with colour (Grad-CAM, attention, boxes) gets libsixel's high-quality palette: median cut over the
///   whole image, 256 registers (libsixel's maximum).
public enum SixelEncoder {
    private final class Sink { var bytes: [UInt8] = [] }

    /// Grey registers: 0 %, 1 %, … 100 %.
    static let levels = 101
    /// The register of each 8-bit grey: the nearest percent.
    static let register: [UInt8] = (0..<256).map { UInt8((Double($0) * Double(levels - 1) / 255).rounded()) }

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
        let grey = image.isGrey && colors == 256
        let ok: Bool
        if grey {
            // An indexed image over the 101 greys a sixel register can hold (its colours are in percent): every
            // pixel goes to the register nearest its grey, exactly, with no search and no dithering.
            var palette = [UInt8](repeating: 0, count: levels * 3)
            for i in 0..<levels {
                let v = UInt8((Double(i) * 255 / Double(levels - 1)).rounded())
                palette[i * 3] = v; palette[i * 3 + 1] = v; palette[i * 3 + 2] = v
            }
            var indices = [UInt8](repeating: 0, count: image.width * image.height)
            image.pixels.withUnsafeBufferPointer { px in
                for i in indices.indices { indices[i] = Self.register[Int(px[i * 3])] }
            }
            var greys: OpaquePointer?
            guard sixel_dither_new(&greys, Int32(levels), nil) == SIXEL_OK, let greys else { return nil }
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
