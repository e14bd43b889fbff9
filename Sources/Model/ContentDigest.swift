import Crypto
import Foundation

/// SHA-256 hex digests (swift-crypto): weights ids and the prediction cache's image keys.
public enum ContentDigest {
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256Hex(_ data: Data) -> String { data.withUnsafeBytes { sha256Hex($0) } }
}
