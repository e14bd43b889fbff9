import Foundation
import Imaging

/// A minimal PNG encoder for tests (8-bit RGB, filter 0, deflate "stored" blocks), so test images can be written
/// without depending on the encoder under test elsewhere.
enum TestPNG {
    static func encode(_ image: RGBImage) -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((image.width * 3 + 1) * image.height)
        for y in 0..<image.height {
            raw.append(0)
            raw += image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)]
        }
        var z: [UInt8] = [0x78, 0x01]
        var offset = 0
        while offset < raw.count || raw.isEmpty {
            let n = min(65535, raw.count - offset)
            let final: UInt8 = offset + n >= raw.count ? 1 : 0
            z += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            z += raw[offset..<(offset + n)]
            offset += n
            if raw.isEmpty { break }
        }
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        z += be32((b << 16) | a)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(image.width)) + be32(UInt32(image.height)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", z)
        png += chunk("IEND", [])
        return Data(png)
    }

    static func write(_ image: RGBImage, to path: String) throws { try encode(image).write(to: URL(fileURLWithPath: path)) }

    private static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    private static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    /// Horizontal and/or vertical flip and a brightness factor, as the dataset's augmentation did.
    static func augment(_ image: RGBImage, hflip: Bool, vflip: Bool, brightness: Float) -> RGBImage {
        var out = image.pixels
        let w = image.width, h = image.height
        for y in 0..<h { for x in 0..<w {
            let sy = vflip ? h - 1 - y : y, sx = hflip ? w - 1 - x : x
            for c in 0..<3 {
                out[(y * w + x) * 3 + c] = UInt8(min(max(Float(image.pixels[(sy * w + sx) * 3 + c]) * brightness, 0), 255))
            }
        } }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
