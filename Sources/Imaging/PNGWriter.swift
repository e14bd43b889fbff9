import Basics
import CCodecs
import Foundation

public enum PNGWriter {
    /// 8-bit RGB PNG bytes (libpng, zlib level 6); `grey`: 8-bit grey, from the first channel.
    public static func encode(_ image: RGBImage, grey: Bool = false) throws -> Data {
        var buffer: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 200)
        let samples = grey ? stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] } : image.pixels
        let status = samples.withUnsafeBufferPointer { pixels in
            ccodecs_encode_png_channels(pixels.baseAddress, Int32(image.width), Int32(image.height), grey ? 1 : 3, 6,
                                        &buffer, &size, &message, message.count)
        }
        guard status == 0, let bytes = buffer else {
            throw ImageError(path: "PNG", reason: "cannot encode: " + String(cString: message))
        }
        defer { ccodecs_free(bytes) }
        return Data(bytes: bytes, count: size)
    }

    /// Writes atomically (temporary file, then rename).
    public static func write(_ image: RGBImage, to path: String, grey: Bool = false) throws {
        let data: Data
        do { data = try encode(image, grey: grey) } catch let error as ImageError { throw ImageError(path: path, reason: error.reason) }
        try writeAtomically(data, to: path)
    }

    /// Through `AtomicFile`: a reader never sees a half-written file, and a failure leaves any old file untouched.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        do { try AtomicFile.write(data, to: path) } catch let failure as AtomicFile.Failure {
            throw ImageError(path: path, reason: "cannot write: \(failure.reason)")
        }
    }
}
