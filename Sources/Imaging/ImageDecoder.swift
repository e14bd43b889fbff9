// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.
import Foundation

public enum ImageDecoder {
    /// Decodes a JPEG or PNG file (any bit depth / colour type) to 8-bit RGB, alpha dropped as PIL's convert("RGB") does.
    public static func decode(path: String) throws -> RGBImage { fatalError("TODO(imaging)") }
    /// Same, from bytes; `name` is used in error messages.
    public static func decode(data: Data, name: String) throws -> RGBImage { fatalError("TODO(imaging)") }
}
