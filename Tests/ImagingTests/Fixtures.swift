import Foundation
@testable import Imaging
import XCTest

/// Paths of the repository and its committed fixtures (Tests/Fixtures/imaging, written by
/// scripts/fixtures/make_imaging_fixtures.py), found from this file, never from the working directory.
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let imaging = repoRoot.appendingPathComponent("Tests/Fixtures/imaging")
    static let samples = repoRoot.appendingPathComponent("samples/hbfmid-test/test/images")

    static func url(_ relative: String) -> URL { imaging.appendingPathComponent(relative) }

    static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(relative)))
    }

    /// An expected RGB image: a PNG, or raw bytes (`name_WxH.rgb`) for images under 2 pixels on a side.
    static func rgb(_ url: URL, width: Int? = nil, height: Int? = nil) throws -> RGBImage {
        if url.pathExtension == "rgb" {
            let data = try Data(contentsOf: url)
            let stem = url.deletingPathExtension().lastPathComponent
            let dims = stem.split(separator: "_").last!.split(separator: "x").map { Int($0)! }
            return RGBImage(width: dims[0], height: dims[1], pixels: [UInt8](data))
        }
        return try ImageDecoder.decode(path: url.path)
    }

    static func sampleImages() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: samples, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "jpg" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// A small deterministic test image (gradients and a checkerboard).
    static func pattern(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8]()
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8((x * 255) / max(1, width - 1)), UInt8((y * 255) / max(1, height - 1)),
                           (x / 2 + y / 2) % 2 == 0 ? 230 : 20]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

/// CRC-32 (IEEE, as zlib.crc32) so a test can compare with PIL's decode without storing its pixels.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Where two images first differ, for failure messages.
func firstDifference(_ a: RGBImage, _ b: RGBImage) -> String {
    guard a.width == b.width, a.height == b.height else { return "size \(a.width)x\(a.height) vs \(b.width)x\(b.height)" }
    var count = 0, maxDelta = 0, first = -1
    for i in 0..<a.pixels.count where a.pixels[i] != b.pixels[i] {
        count += 1
        maxDelta = max(maxDelta, abs(Int(a.pixels[i]) - Int(b.pixels[i])))
        if first < 0 { first = i }
    }
    if count == 0 { return "identical" }
    let p = first / 3
    return "\(count) bytes differ (max |Δ| \(maxDelta)); first at x=\(p % a.width) y=\(p / a.width) channel \(first % 3)"
}
