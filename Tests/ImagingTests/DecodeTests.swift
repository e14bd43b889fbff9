import Foundation
@testable import Imaging
import XCTest

final class DecodeTests: XCTestCase {
    /// Every PNG colour type / bit depth and every JPEG kind decodes to exactly PIL's convert("RGB") pixels.
    func testDecodesEveryKindLikePIL() throws {
        let cases = try XCTUnwrap((Fixtures.json("decode/cases.json") as? [String: Any])?["decode"] as? [[String: String]])
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for entry in cases {
            let file = Fixtures.url("decode/" + entry["file"]!)
            let expected = try Fixtures.rgb(Fixtures.url("decode/" + entry["expected"]!))
            let decoded = try ImageDecoder.decode(path: file.path)
            XCTAssertEqual(decoded, expected, "\(entry["file"]!): \(firstDifference(decoded, expected))")
        }
    }

    /// Broken inputs give an ImageError naming the file and the reason, in one line, never a crash.
    func testBrokenFilesGiveOneLineErrors() throws {
        let broken = try XCTUnwrap((Fixtures.json("decode/cases.json") as? [String: Any])?["broken"] as? [[String: String]])
        XCTAssertGreaterThanOrEqual(broken.count, 9)
        for entry in broken {
            let path = Fixtures.url("decode/" + entry["file"]!).path
            XCTAssertThrowsError(try ImageDecoder.decode(path: path), entry["file"]!) { error in
                guard let error = error as? ImageError else { return XCTFail("\(entry["file"]!): not an ImageError: \(error)") }
                XCTAssertEqual(error.path, path)
                XCTAssertTrue(error.description.hasPrefix(path))
                XCTAssertFalse(error.description.contains("\n"), error.description)
                XCTAssertTrue(error.reason.localizedCaseInsensitiveContains(entry["reason"]!),
                              "\(entry["file"]!): \(error.reason) should mention \(entry["reason"]!)")
            }
        }
    }

    func testHostileNamesAndSpecialFiles() {
        let name = "/tmp/evil\u{1B}[2J\nname.jpg"
        XCTAssertThrowsError(try ImageDecoder.decode(path: name)) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\u{1B}") || text.contains("\n"), text)
            XCTAssertEqual((error as? ImageError)?.path, name)
        }
        XCTAssertThrowsError(try ImageDecoder.decode(path: "/dev/null")) { error in
            XCTAssertEqual((error as? ImageError)?.reason, "not a regular file")
        }
    }

    func testMissingFileAndDirectory() {
        XCTAssertThrowsError(try ImageDecoder.decode(path: "/nonexistent/x.jpg")) { error in
            XCTAssertEqual((error as? ImageError)?.reason, "no such file")
        }
        XCTAssertThrowsError(try ImageDecoder.decode(path: Fixtures.imaging.path)) { error in
            XCTAssertTrue((error as? ImageError)?.reason.contains("directory") ?? false, "\(error)")
        }
    }

    /// Every truncation point of a JPEG and a PNG is an error (or, past the last pixel data, a full image).
    func testEveryTruncationIsHandled() throws {
        for name in ["decode/rgb420_q90.jpg", "decode/rgb8_interlaced.png", "decode/progressive.jpg"] {
            let data = try Data(contentsOf: Fixtures.url(name))
            let full = try ImageDecoder.decode(data: data, name: name)
            var failures = 0
            for length in stride(from: 0, to: data.count, by: 7) {
                do {
                    let image = try ImageDecoder.decode(data: data.prefix(length), name: name)
                    XCTAssertEqual(image, full, "\(name) cut at \(length) decoded to different pixels")
                } catch let error as ImageError {
                    failures += 1
                    XCTAssertFalse(error.reason.isEmpty)
                }
            }
            XCTAssertGreaterThan(failures, data.count / 7 / 2, name)
        }
    }

    /// Random byte corruption (deterministic) never crashes: each file decodes or throws an ImageError.
    func testCorruptedBytesNeverCrash() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var decoded = 0, refused = 0
        for name in ["decode/rgb420_q90.jpg", "decode/progressive.jpg", "decode/cmyk_q90.jpg", "decode/palette4.png",
                     "decode/rgba16.png", "decode/rgb8_interlaced.png"] {
            let original = try [UInt8](Data(contentsOf: Fixtures.url(name)))
            for _ in 0..<150 {
                var bytes = original
                for _ in 0..<(1 + next() % 8) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
                do {
                    let image = try ImageDecoder.decode(data: Data(bytes), name: name)
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                    decoded += 1
                } catch is ImageError {
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(refused, 0)
        XCTAssertEqual(decoded + refused, 900)
    }

    func testFormatComesFromBytesNotName() throws {
        let png = try Data(contentsOf: Fixtures.url("decode/rgb8.png"))
        XCTAssertEqual(try ImageDecoder.detectFormat(png, name: "x.jpg"), .png)
        let jpeg = try Data(contentsOf: Fixtures.url("decode/gray_q90.jpg"))
        XCTAssertEqual(try ImageDecoder.detectFormat(jpeg, name: "x.png"), .jpeg)
    }

    /// A header claiming more than the pixel limit is refused before decoding.
    func testPixelLimitRefusedBeforeDecoding() throws {
        var data = try [UInt8](Data(contentsOf: Fixtures.url("decode/rgb8.png")))
        // IHDR width/height at bytes 16…23; 20000×20000 = 400 MP. Fix the CRC so only the size is "wrong".
        let size: [UInt8] = [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20]
        data.replaceSubrange(16..<24, with: size)
        let crc = CRC32.checksum(Array(data[12..<29]))
        data.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
        XCTAssertThrowsError(try ImageDecoder.decode(data: Data(data), name: "huge.png")) { error in
            XCTAssertTrue((error as? ImageError)?.reason.contains("too large") ?? false, "\(error)")
        }
    }

    /// libjpeg-turbo with PIL's settings gives PIL's exact pixels on the bundled X-rays.
    func testSampleJPEGsMatchPILBitExactly() throws {
        let crcs = try XCTUnwrap(Fixtures.json("jpeg_crc32.json") as? [String: Int])
        let images = try Fixtures.sampleImages()
        XCTAssertEqual(images.count, crcs.count)
        var matches = 0
        var mismatched = [String]()
        for url in images {
            let image = try ImageDecoder.decode(path: url.path)
            if Int(CRC32.checksum(image.pixels)) == crcs[url.lastPathComponent] { matches += 1 } else { mismatched.append(url.lastPathComponent) }
        }
        print("JPEG decode: \(matches)/\(images.count) sample images bit-exact with PIL")
        XCTAssertEqual(matches, images.count, "differ from PIL: \(mismatched.prefix(5))")
    }
}

/// Image errors name files, and file names may hold anything: the one terminal sanitiser cleans them.
final class ImageErrorTextTests: XCTestCase {
    func testBidiOverridesLineSeparatorsAndEscapesAreNeutralised() {
        let hostile = "scan\u{202E}gpj.exe\u{2028}line2\u{1B}[31mred\u{9B}2J"
        let text = ImageError(path: "/data/" + hostile, reason: "not a\u{2029}JPEG\u{2029}").description
        for bad: Unicode.Scalar in ["\u{202E}", "\u{2028}", "\u{2029}", "\u{1B}", "\u{9B}"] {
            XCTAssertFalse(text.unicodeScalars.contains(bad), "U+\(String(bad.value, radix: 16)) in \(text.debugDescription)")
        }
        // The name's separators are shown as "?"; the reason's line breaks fold into the one line (OneLineError).
        XCTAssertEqual(text, "/data/scan?gpj.exe?line2?[31mred?2J: not a JPEG")
    }
}
