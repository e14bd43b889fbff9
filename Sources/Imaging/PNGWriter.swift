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

    /// A temporary file beside the target (same file system, so rename(2) is atomic), then rename.
    /// A reader never sees a half-written file, and a failure leaves any old file untouched.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ImageError(path: path, reason: "cannot write: the folder \(directory) does not exist")
        }
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImageError(path: path, reason: "cannot write: \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ImageError(path: path, reason: "cannot write: \(failure)")
        }
    }
}
