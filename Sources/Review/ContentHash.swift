import Foundation
import Model

/// SHA-256 of a file's bytes, hex encoded: exact duplicates across splits are found by comparing these, and the
/// prediction cache is keyed by them. The digest itself is Model's SHA256 (one implementation in the package).
public enum ContentHash {
    public static func sha256Hex(_ data: Data) -> String {
        data.withUnsafeBytes { SHA256.hex(SHA256.hash($0)) }
    }

    public static func sha256Hex(fileAt path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return sha256Hex(data)
    }
}
