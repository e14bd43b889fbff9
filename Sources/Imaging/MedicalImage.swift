import CDicom
import Foundation

/// A DICOM image's first frame at full depth: modality values (stored value × Rescale Slope + Intercept), with
/// what the file says about showing it. Window/level acts on these values, never on an 8-bit copy.
public final class MedicalImage: Sendable, Equatable {
    public let width: Int, height: Int
    /// Grey images: one modality value per pixel, row-major. Empty for colour images.
    public let values: [Float]
    /// Colour images as stored (8-bit RGB); nil for grey ones.
    public let color: RGBImage?
    /// A grey image with a VOI LUT: DCMTK's rendering through the file's first LUT (the opening view).
    public let voiLUTRendering: RGBImage?
    /// Frames in the file; only the first is shown.
    public let frames: Int
    /// MONOCHROME1: low values are bright, so it is shown inverted.
    public let monochrome1: Bool
    /// The file's own windows (Window Center / Width), in modality units.
    public let windows: [WindowLevel]
    public let minValue: Float, maxValue: Float
    public let transferSyntax: String

    public init(width: Int, height: Int, values: [Float], color: RGBImage?, voiLUTRendering: RGBImage?, frames: Int,
                monochrome1: Bool, windows: [WindowLevel], minValue: Float, maxValue: Float, transferSyntax: String) {
        self.width = width; self.height = height; self.values = values; self.color = color
        self.voiLUTRendering = voiLUTRendering; self.frames = frames; self.monochrome1 = monochrome1
        self.windows = windows; self.minValue = minValue; self.maxValue = maxValue; self.transferSyntax = transferSyntax
    }

    /// One decoded file is one image: compared by identity (the pixels are large).
    public static func == (a: MedicalImage, b: MedicalImage) -> Bool { a === b }

    /// The window it opens with: the file's first, else its full range (a VOI LUT, when present, is drawn as
    /// DCMTK renders it until the window is changed).
    public var initialWindow: WindowLevel {
        if let first = windows.first { return first }
        return WindowLevel(center: (minValue + maxValue) / 2 + 0.5, width: max(1, maxValue - minValue + 1))
    }

    /// 8-bit RGB at `window` in modality units (nil: the opening view, the VOI LUT if there is one). MONOCHROME1
    /// is inverted, and `inverted` (the reviewer's `i`) inverts again.
    public func render(window: WindowLevel?, inverted: Bool = false) -> RGBImage {
        if let color { return color }
        if window == nil, let lut = voiLUTRendering {
            return monochrome1 != inverted ? RGBImage(width: lut.width, height: lut.height, pixels: lut.pixels.map { 255 - $0 }) : lut
        }
        let w = window ?? initialWindow
        let invert = monochrome1 != inverted
        var plain = w
        plain.inverted = false
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for (i, v) in values.enumerated() {
                var g = plain.map(Double(v))
                if invert { g = 255 - g }
                out[i * 3] = g; out[i * 3 + 1] = g; out[i * 3 + 2] = g
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A note for the caption: frames beyond the first, and MONOCHROME1.
    public var note: String? {
        var parts: [String] = []
        if frames > 1 { parts.append("frame 1 of \(frames)") }
        if monochrome1 { parts.append("MONOCHROME1") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }
}

/// DICOM files through DCMTK: uncompressed (implicit VR, explicit VR little and big endian), RLE, JPEG baseline,
/// extended and lossless, and JPEG-LS. Other transfer syntaxes get a one-line error that names them.
public enum DicomDecoder {
    public static func isDicom(_ data: Data) -> Bool {
        data.count >= 132 && data[data.startIndex + 128 ..< data.startIndex + 132].elementsEqual("DICM".utf8)
    }

    /// From the file's bytes, decoded where they are (DCMTK reads them through a buffer stream: no temporary file);
    /// `name` is used in error messages.
    public static func decode(data: Data, name: String) throws -> MedicalImage {
        var image = cdicom_image()
        let status = data.withUnsafeBytes { raw in
            cdicom_decode_memory(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, Int64(ImageDecoder.maxPixels), &image)
        }
        defer { cdicom_free(&image) }
        let error = withUnsafeBytes(of: &image.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard status == 0 else { throw ImageError(path: name, reason: "DICOM: " + error) }
        let width = Int(image.width), height = Int(image.height), count = width * height
        guard width >= ImageDecoder.minimumSide, height >= ImageDecoder.minimumSide else {
            throw ImageError(path: name, reason: "image too small: \(width)x\(height) pixels")
        }
        let syntax = withUnsafeBytes(of: &image.transfer_syntax) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        func rgb(_ p: UnsafeMutablePointer<UInt8>?) -> RGBImage? {
            p.map { RGBImage(width: width, height: height, pixels: Array(UnsafeBufferPointer(start: $0, count: count * 3))) }
        }
        let values = image.values.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        var windows: [WindowLevel] = []
        withUnsafeBytes(of: &image.window_center) { c in
            withUnsafeBytes(of: &image.window_width) { w in
                let cs = c.bindMemory(to: Double.self), ws = w.bindMemory(to: Double.self)
                for i in 0..<Int(image.window_count) { windows.append(WindowLevel(center: Float(cs[i]), width: Float(ws[i]))) }
            }
        }
        return MedicalImage(width: width, height: height, values: values, color: image.color != 0 ? rgb(image.rgb) : nil,
                            voiLUTRendering: image.color == 0 && image.has_voi_lut != 0 ? rgb(image.rgb) : nil,
                            frames: Int(image.frames), monochrome1: image.monochrome1 != 0, windows: windows,
                            minValue: Float(image.min_value), maxValue: Float(image.max_value), transferSyntax: syntax)
    }
}
