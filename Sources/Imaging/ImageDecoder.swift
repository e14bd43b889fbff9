import CCodecs
import Foundation

public enum ImageDecoder {
    /// Images with more pixels than this are refused after reading the header, before any pixel is decoded
    /// (about 7000×7000; a full-resolution radiograph is 10–20 million pixels).
    public static let maxPixels = 50_000_000
    /// Images narrower or shorter than this are refused: nothing can be classified or seen in them.
    public static let minimumSide = 2
    /// Files larger than this are refused before being read.
    public static let maxFileBytes = 256 << 20

    /// What a file holds, from its signature (magic bytes), never from its extension.
    public enum Format: String, Sendable {
        case jpeg = "JPEG", png = "PNG"
    }

    /// Decodes a JPEG or PNG file (any bit depth / colour type) to 8-bit RGB, alpha dropped as PIL's convert("RGB") does.
    public static func decode(path: String) throws -> RGBImage {
        try decode(data: readFile(path), name: path)
    }

    /// A DICOM image at its opening window (what the model sees and the reviewer first sees), carrying the
    /// full-depth image for window/level.
    private static func rendered(_ medical: MedicalImage) -> RGBImage {
        var image = medical.render(window: nil)
        image.source = medical
        return image
    }

    /// Same, from bytes (DICOM too: the bytes given are decoded, never a file re-read); `name` is used in error
    /// messages.
    public static func decode(data: Data, name: String) throws -> RGBImage {
        if DicomDecoder.isDicom(data) { return rendered(try DicomDecoder.decode(data: data, name: name)) }
        let format = try detectFormat(data, name: name)
        var result = ccodecs_image()
        let status: Int32 = data.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            switch format {
            case .jpeg: return ccodecs_decode_jpeg(base, raw.count, Int64(maxPixels), &result)
            case .png: return ccodecs_decode_png(base, raw.count, Int64(maxPixels), &result)
            }
        }
        guard status == 0, let pixels = result.pixels else {
            throw ImageError(path: name, reason: message(from: &result.error))
        }
        defer { ccodecs_free(pixels) }
        let width = Int(result.width), height = Int(result.height)
        if width < minimumSide || height < minimumSide {
            throw ImageError(path: name, reason: "image too small: \(width)x\(height) pixels (minimum \(minimumSide)x\(minimumSide))")
        }
        let bytes = Array(UnsafeBufferPointer(start: pixels, count: width * height * 3))
        return RGBImage(width: width, height: height, pixels: bytes)
    }

    /// The format named by the first bytes; throws for anything else, naming what it looks like when known.
    public static func detectFormat(_ data: Data, name: String) throws -> Format {
        let head = [UInt8](data.prefix(12))
        if head.isEmpty { throw ImageError(path: name, reason: "empty file (0 bytes)") }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        let known: [([UInt8], String)] = [
            (Array("GIF8".utf8), "GIF"), (Array("BM".utf8), "BMP"), ([0x49, 0x49, 0x2A, 0x00], "TIFF"),
            ([0x4D, 0x4D, 0x00, 0x2A], "TIFF"), (Array("RIFF".utf8), "RIFF/WebP"), (Array("%PDF".utf8), "PDF"),
        ]
        for (magic, label) in known where head.starts(with: magic) {
            throw ImageError(path: name, reason: "unsupported image format (\(label)); fracview reads JPEG, PNG and DICOM")
        }
        throw ImageError(path: name, reason: "not a JPEG, PNG or DICOM file")
    }

    /// `readFile`'s reason for a missing file.
    public static let noSuchFile = "no such file"

    /// The one guarded loader every reader of an image file goes through: a regular file (links followed) of at
    /// most `maxFileBytes`; a FIFO or a device is refused before it is opened.
    public static func readFile(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError(path: path, reason: noSuchFile)
        }
        if isDirectory.boolValue { throw ImageError(path: path, reason: "is a directory, not an image") }
        // attributesOfItem does not follow symbolic links; a dataset of links to images is common, so resolve first.
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let attributes = try? FileManager.default.attributesOfItem(atPath: resolved)
        if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
            throw ImageError(path: path, reason: "not a regular file")     // a FIFO or device would block or never end
        }
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        if size > maxFileBytes {
            throw ImageError(path: path, reason: "file too large (\(size) bytes; limit \(maxFileBytes))")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw ImageError(path: path, reason: "cannot read the file (\(Self.shortReason(error)))")
        }
    }

    private static func shortReason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }

    /// A C char array (imported as a tuple) as a one-line Swift string.
    private static func message<T>(from tuple: inout T) -> String {
        let text = withUnsafeBytes(of: &tuple) { raw -> String in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
