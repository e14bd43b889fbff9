import Crypto
import Foundation

/// UIDs for the objects fracview writes, derived from what they say (ISO/IEC 9834-8: "2.25." and a 128-bit UUID as
/// a decimal number; here an RFC 9562 version-8 UUID from SHA-256). The same finding sent twice gets the same UIDs,
/// so the PACS stores it once; a changed finding gets new ones.
public enum FindingsUID {
    public static func make(_ parts: [String]) -> String {
        var bytes = Array(SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80   // version 8
        bytes[8] = (bytes[8] & 0x3F) | 0x80   // variant 10
        return "2.25." + decimal(bytes)
    }

    /// A big-endian unsigned integer in decimal, by repeated division (no big-integer type needed for 128 bits).
    static func decimal(_ bytes: [UInt8]) -> String {
        var number = bytes
        var digits: [Character] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in number.indices {
                let value = remainder * 256 + Int(number[i])
                number[i] = UInt8(value / 10)
                remainder = value % 10
            }
            digits.append(Character(String(remainder)))
        }
        return digits.isEmpty ? "0" : String(digits.reversed())
    }
}
