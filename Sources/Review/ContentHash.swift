import Foundation
import Model

/// SHA-256 of a file's bytes, hex encoded: exact duplicates across splits are found by comparing these, and the
/// prediction cache is keyed by them. The digest is swift-crypto's, through Model's `ContentDigest`.
public enum ContentHash {
    public static func sha256Hex(_ data: Data) -> String { ContentDigest.sha256Hex(data) }

    public static func sha256Hex(fileAt path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return sha256Hex(data)
    }

    /// FNV-1a 64: a stable (unlike Swift's seeded `Hasher`) hash for deterministic tie-breaking.
    public static func fnv1a(_ string: String) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in string.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return hash
    }
}
