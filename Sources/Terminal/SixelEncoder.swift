import CSixel
import Imaging

/// Encodes an RGB image as a DEC sixel sequence with libsixel, building a palette per image
/// (a grey X-ray and a colour heatmap need different registers).
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
        let ok: Bool = pixels.withUnsafeMutableBufferPointer { buf in
            guard sixel_dither_initialize(dither, buf.baseAddress, Int32(image.width), Int32(image.height),
                                          SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO, SIXEL_REP_AUTO,
                                          SIXEL_QUALITY_AUTO) == SIXEL_OK else { return false }
            return sixel_encode(buf.baseAddress, Int32(image.width), Int32(image.height), 3, dither, output) == SIXEL_OK
        }
        return ok ? sink.bytes : nil
    }
}
