import Crypto
import Foundation

/// Digests of file contents. SHA-256 (swift-crypto), hex: weights ids, the prediction cache's image keys, and the
/// exact duplicates the audit finds across splits.
public enum ContentDigest {
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256Hex(_ data: Data) -> String { data.withUnsafeBytes { sha256Hex($0) } }

    /// One digest over several buffers, in order.
    public static func sha256Hex(parts: [UnsafeRawBufferPointer]) -> String {
        var hasher = SHA256()
        for part in parts { hasher.update(bufferPointer: part) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// FNV-1a 64: a stable (unlike Swift's seeded `Hasher`) hash for deterministic tie-breaking.
    public static func fnv1a(_ string: String) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in string.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return hash
    }
}
