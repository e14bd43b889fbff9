import Foundation
@testable import Imaging
import XCTest

final class ColormapOverlayTests: XCTestCase {
    func lut(_ name: String) throws -> [UInt8] {
        let root = try XCTUnwrap(Fixtures.json("colormaps.json") as? [String: [[Int]]])
        return try XCTUnwrap(root[name]).flatMap { $0.map(UInt8.init) }
    }

    /// The JET table equals an independent float32 re-derivation of OpenCV's construction (fixture script),
    /// and the well-known cv2.applyColorMap(COLORMAP_JET) values (BGR there, RGB here).
    func testJetIsOpenCVs() throws {
        XCTAssertEqual(Colormap.jet.lut, try lut("jet"))
        func rgb(_ i: Int) -> [UInt8] { let t = Colormap.jet.lut; return [t[3 * i], t[3 * i + 1], t[3 * i + 2]] }
        XCTAssertEqual(rgb(0), [0, 0, 128])       // dark blue
        XCTAssertEqual(rgb(32), [0, 0, 255])
        XCTAssertEqual(rgb(128), [130, 255, 126])
        XCTAssertEqual(rgb(255), [128, 0, 0])     // dark red
    }

    func testViridisAndInfernoAreMatplotlibs() throws {
        XCTAssertEqual(Colormap.viridis.lut, try lut("viridis"))
        XCTAssertEqual(Colormap.inferno.lut, try lut("inferno"))
        XCTAssertTrue(Colormap.viridis.rgb(0) == (68, 1, 84))
        XCTAssertTrue(Colormap.gray.rgb(0.5) == (127, 127, 127))
    }

    /// Values index the table as np.uint8(255 * v): truncation, clamped, NaN → 0.
    func testIndexingIsTheNotebooks() {
        XCTAssertEqual(Colormap.index(0.999), 254)
        XCTAssertEqual(Colormap.index(1), 255)
        XCTAssertEqual(Colormap.index(7), 255)
        XCTAssertEqual(Colormap.index(-1), 0)
        XCTAssertEqual(Colormap.index(.nan), 0)
        XCTAssertEqual(Colormap.index(0.5), 127)
        XCTAssertTrue(Colormap.jet.rgb(2) == Colormap.jet.rgb(1))
    }

    /// cv2.addWeighted(img, 0.6, heat, 0.4, 0), rounded to nearest.
    func testBlendRoundsLikeAddWeighted() {
        let a = RGBImage(width: 2, height: 1, pixels: [100, 1, 255, 3, 0, 254])
        let b = RGBImage(width: 2, height: 1, pixels: [200, 0, 255, 4, 255, 255])
        // 140, 0.6 → 1, 255, 3.4 → 3, 102, 254.4 → 254.
        XCTAssertEqual(Overlay.blend(a, b).pixels, [140, 1, 255, 3, 102, 254])
        XCTAssertEqual(Overlay.blend(a, b, imageWeight: 1).pixels, a.pixels)
        XCTAssertEqual(Overlay.blend(a, b, imageWeight: 0).pixels, b.pixels)
    }

    func testHeatmapOfConstantMapIsBlendWithOneColour() {
        let image = Fixtures.pattern(width: 10, height: 6)
        let out = Overlay.heatmap([Float](repeating: 1, count: 4), mapWidth: 2, mapHeight: 2, over: image)
        let red = RGBImage(width: 10, height: 6, fill: (128, 0, 0))
        XCTAssertEqual(out, Overlay.blend(image, red))
    }

    func testColoredMapFollowsTheMap() {
        // A 7×7 map with its peak at (5, 2): the coloured 224×224 view is hottest (reddest) there.
        var cam = [Float](repeating: 0, count: 49)
        cam[2 * 7 + 5] = 1
        let view = Overlay.colored(cam, mapWidth: 7, mapHeight: 7, width: 224, height: 224)
        XCTAssertEqual(view.width, 224)
        // Source pixel 5's centre lands between output pixels 175 and 176 (x = (dx + 0.5)·7/224 − 0.5).
        let resized = Resize.map(cam, width: 7, height: 7, toWidth: 224, toHeight: 224)
        let peak = view.pixel(x: 175, y: 79)
        XCTAssertTrue(peak == Colormap.jet.rgb(resized[79 * 224 + 175]), "\(peak)")
        XCTAssertGreaterThanOrEqual(peak.0, 128)
        XCTAssertEqual(peak.2, 0)
        XCTAssertTrue(view.pixel(x: 10, y: 200) == (0, 0, 128))
        let viridis = Overlay.colored(cam, mapWidth: 7, mapHeight: 7, width: 14, height: 14, colormap: .viridis)
        XCTAssertTrue(viridis.pixel(x: 0, y: 13) == (68, 1, 84))
    }

    func testWindowLevel() {
        let ramp = RGBImage(width: 256, height: 1, pixels: (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8(255 - $0)] })
        XCTAssertEqual(WindowLevel.identity.apply(to: ramp), ramp)
        XCTAssertEqual(WindowLevel(center: 128, width: 256).apply(to: ramp), ramp)   // DICOM's own identity
        XCTAssertEqual(WindowLevel(inverted: true).apply(to: ramp).pixels, ramp.pixels.map { 255 - $0 })
        // A coloured pixel keeps its hue: the window acts on its luminance, the channels scale together (issue #26
        // §14, colour DICOM). Brighter window: luminance up, the ratio of the channels kept.
        let tinted = RGBImage(width: 1, height: 1, pixels: [120, 60, 30])
        let brighter = WindowLevel(center: 64, width: 128).apply(to: tinted).pixels
        XCTAssertGreaterThan(Int(brighter[0]), 120)
        XCTAssertEqual(Double(brighter[0]) / Double(brighter[1]), 2, accuracy: 0.05)
        XCTAssertEqual(Double(brighter[1]) / Double(brighter[2]), 2, accuracy: 0.1)
        // Centre 100, width 51: x ≤ 74.5 → 0, x > 124.5 → 255, else ((x − 99.5)/50 + 0.5)·255 truncated.
        let w = WindowLevel(center: 100, width: 51)
        XCTAssertEqual(w.value(74), 0)
        XCTAssertEqual(w.value(75), 2)       // 0.01·255 = 2.55
        XCTAssertEqual(w.value(100), 130)    // 0.51·255 = 130.05
        XCTAssertEqual(w.value(124), 252)    // 0.99·255 = 252.45
        XCTAssertEqual(w.value(125), 255)
        XCTAssertEqual(WindowLevel(center: 50, width: 1).value(49), 0)
        XCTAssertEqual(WindowLevel(center: 50, width: 1).value(50), 255)
        let lut = w.lut
        XCTAssertEqual(lut, lut.sorted(), "a window is monotonic")
        let stretch = WindowLevel.stretching(low: 40, high: 200)
        XCTAssertEqual(stretch.value(40), 0)
        XCTAssertEqual(stretch.value(200), 255)
        XCTAssertEqual(stretch.value(39), 0)
    }

    func testGrayscaleIsPILs() throws {
        let source = try Fixtures.rgb(Fixtures.url("resize/src_noise97x61.png"))
        let expected = try [UInt8](Data(contentsOf: Fixtures.url("resize/luma_noise97x61.gray")))
        XCTAssertEqual(source.grayscale(), expected)
    }
}
