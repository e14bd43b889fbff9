import CSixel
import Foundation
import Imaging
@testable import Terminal
import XCTest

/// The X-ray reaches the screen with every grey level sixel can carry: the sixel is decoded and its greys counted.
/// A sixel colour register is given in percent (`#n;2;r;g;b`, 0–100 each, DEC's format), so a terminal can show at
/// most 101 greys; with its own 256-grey palette and no dithering, fracview shows all 101, each pixel at the level
/// nearest its value (libsixel's automatic palette kept about 30).
final class SixelGreyTests: XCTestCase {
    struct DecodeFailed: Error, CustomStringConvertible { var description: String { "libsixel could not decode the sixel" } }

    /// Decodes a sixel sequence to RGB pixels.
    static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        var data = bytes
        var pixels: UnsafeMutablePointer<UInt8>?
        var palette: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, ncolors: Int32 = 0
        guard sixel_decode_raw(&data, Int32(data.count), &pixels, &w, &h, &palette, &ncolors, nil) == SIXEL_OK,
              let pixels, let palette else { throw DecodeFailed() }
        defer { free(pixels); free(palette) }
        var rgb = [UInt8](repeating: 0, count: Int(w * h) * 3)
        for i in 0..<Int(w * h) {
            let k = Int(pixels[i])
            rgb[i * 3] = palette[k * 3]; rgb[i * 3 + 1] = palette[k * 3 + 1]; rgb[i * 3 + 2] = palette[k * 3 + 2]
        }
        return RGBImage(width: Int(w), height: Int(h), pixels: rgb)
    }

    static func greys(_ image: RGBImage) -> Set<UInt8> {
        Set(stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] })
    }

    /// The levels of the grey pixels (R = G = B) alone, overlay colours left out.
    static func greyLevels(_ image: RGBImage) -> Set<UInt8> {
        var levels = Set<UInt8>()
        let px = image.pixels
        for i in stride(from: 0, to: px.count, by: 3) where px[i] == px[i + 1] && px[i + 1] == px[i + 2] {
            levels.insert(px[i])
        }
        return levels
    }

    /// The largest difference between a shown pixel and its source, in grey levels.
    static func maxError(_ shown: RGBImage, _ source: RGBImage) -> Double {
        guard shown.pixels.count == source.pixels.count else { return .infinity }
        var worst = 0
        for i in 0..<shown.pixels.count { worst = max(worst, abs(Int(shown.pixels[i]) - Int(source.pixels[i]))) }
        return Double(worst)
    }

    func testEveryGreyOfARampIsExact() throws {
        let w = 256, h = 12
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { px[(y * w + x) * 3 + c] = UInt8(x) } } }
        let ramp = RGBImage(width: w, height: h, pixels: px)
        let shown = try Self.decode(try XCTUnwrap(SixelEncoder.encode(ramp)))
        XCTAssertEqual(shown.width, w)
        XCTAssertEqual(Self.greys(shown).count, 101, "every level the sixel format has")
        XCTAssertLessThanOrEqual(Self.maxError(shown, ramp), 1.5, "no dithering: every pixel at the level nearest its grey")
    }

    /// A real X-ray of the bundled sample, at a pane's size: at least 200 greys (it has more than 200).
    func testAnXRayViewKeepsItsGreys() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/hbfmid-test/test/images")
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().first)
        let image = try ImageDecoder.decode(path: dir.appendingPathComponent(name).path)
        let view = ImageView()
        let (pixels, _) = try XCTUnwrap(ImageRenderer.render(image: image, prediction: nil, view: view, colormap: .jet,
                                                            maxWidth: 800, maxHeight: 780, background: RGB(0, 0, 0)))
        let source = Self.greys(pixels)
        XCTAssertGreaterThan(source.count, 200, "the test image must have the greys")
        let shown = try Self.decode(try XCTUnwrap(SixelEncoder.encode(pixels)))
        let representable = Set(source.map { UInt8((Double(Int((Double($0) * 100 / 255).rounded())) * 255 / 100).rounded()) })
        XCTAssertGreaterThanOrEqual(Self.greys(shown).count, representable.count - 1, "the levels the format can show")
        XCTAssertGreaterThan(Self.greys(shown).count, 90, "was about 30 with libsixel's automatic palette")
        XCTAssertLessThanOrEqual(Self.maxError(shown, pixels), 1.5)
    }

    /// A grey frame with a few overlay colours (the label box, the model's box) keeps every grey and every overlay
    /// colour exactly: the box does not send the X-ray through a median cut.
    func testAGreyFrameWithABoxKeepsEveryGreyAndTheBoxColour() throws {
        let w = 256, h = 40
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { px[(y * w + x) * 3 + c] = UInt8(x) } } }
        let magenta: [UInt8] = [255, 0, 255], cyan: [UInt8] = [0, 204, 255]
        for x in 20..<200 { for (y, colour) in [(5, magenta), (30, cyan)] { px.replaceSubrange((y * w + x) * 3..<(y * w + x) * 3 + 3, with: colour) } }
        let frame = RGBImage(width: w, height: h, pixels: px)
        XCTAssertFalse(frame.isGrey)
        let shown = try Self.decode(try XCTUnwrap(SixelEncoder.encode(frame)))
        XCTAssertEqual(Self.greyLevels(shown).count, 101, "every level the format has")
        XCTAssertLessThanOrEqual(Self.maxError(shown, frame), 1.5, "no dithering, boxes included")
        XCTAssertNil(SixelEncoder.greyIndexed(Self.noise(width: 64, height: 64)), "a CAM-like frame takes the colour path")
    }

    /// Colour noise: far more distinct colours than the overlay registers hold.
    static func noise(width: Int, height: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { px[i * 3] = UInt8(i % 256); px[i * 3 + 1] = UInt8((i / 64) * 4); px[i * 3 + 2] = 40 }
        return RGBImage(width: width, height: height, pixels: px)
    }

    /// A view with colour still gets a full palette (and is not mistaken for grey).
    func testAColourViewUsesTheFullPalette() throws {
        var px = [UInt8](repeating: 0, count: 64 * 64 * 3)
        for i in 0..<(64 * 64) { px[i * 3] = UInt8(i % 256); px[i * 3 + 1] = UInt8((i / 64) * 4); px[i * 3 + 2] = 40 }
        let image = RGBImage(width: 64, height: 64, pixels: px)
        XCTAssertFalse(image.isGrey)
        let shown = try Self.decode(try XCTUnwrap(SixelEncoder.encode(image)))
        var colours = Set<Int>()
        for i in stride(from: 0, to: shown.pixels.count, by: 3) {
            let r = Int(shown.pixels[i]), g = Int(shown.pixels[i + 1]), b = Int(shown.pixels[i + 2])
            colours.insert(r << 16 | g << 8 | b)
        }
        XCTAssertGreaterThan(colours.count, 200)
    }
}
