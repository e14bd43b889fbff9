// CONTRACT (owned by the imaging work). Stub bodies are replaced by the imaging work.
import Foundation

public enum PNGWriter {
    public static func encode(_ image: RGBImage) throws -> Data { fatalError("TODO(imaging)") }
    /// Writes atomically (temporary file, then rename).
    public static func write(_ image: RGBImage, to path: String) throws { fatalError("TODO(imaging)") }
}
