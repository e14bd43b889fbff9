import Datasets
import Imaging
@testable import Terminal
import XCTest

/// Orientation, pan, window presets and the CAM's upsampling: the pixels the viewer shows.
final class ViewGeometryTests: XCTestCase {
    /// 3×2, every pixel its own value (index 1…6).
    static func greyImage(_ width: Int, _ height: Int, _ value: (Int) -> UInt8) -> RGBImage {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { let v = value(i); px[i * 3] = v; px[i * 3 + 1] = v; px[i * 3 + 2] = v }
        return RGBImage(width: width, height: height, pixels: px)
    }
    let small = ViewGeometryTests.greyImage(3, 2) { UInt8(($0 + 1) * 10) }
    func values(_ img: RGBImage) -> [UInt8] { stride(from: 0, to: img.pixels.count, by: 3).map { img.pixels[$0] } }
    func pixel(_ img: RGBImage, _ x: Int, _ y: Int) -> [UInt8] { Array(img.pixels[((y * img.width + x) * 3)..<((y * img.width + x) * 3 + 3)]) }

    func testFlipsAndRotations() {
        // 10 20 30
        // 40 50 60
        var v = ImageView()
        v.flipH = true
        XCTAssertEqual(values(ImageRenderer.orient(small, v)), [30, 20, 10, 60, 50, 40])
        v = ImageView(); v.flipV = true
        XCTAssertEqual(values(ImageRenderer.orient(small, v)), [40, 50, 60, 10, 20, 30])
        v = ImageView(); v.rotate(clockwise: true)
        let cw = ImageRenderer.orient(small, v)
        XCTAssertEqual([cw.width, cw.height], [2, 3])
        XCTAssertEqual(values(cw), [40, 10, 50, 20, 60, 30])
        v = ImageView(); v.rotate(clockwise: false)
        XCTAssertEqual(values(ImageRenderer.orient(small, v)), [30, 60, 20, 50, 10, 40])
        for _ in 0..<3 { v.rotate(clockwise: false) }
        XCTAssertEqual(values(ImageRenderer.orient(small, v)), values(small), "four turns are the identity")
        // The point mapping agrees with the pixels: the top-left pixel's centre lands where pixel 10 is shown.
        v = ImageView(); v.rotate(clockwise: true)
        let (x, y) = ImageRenderer.orient(x: 1.0 / 6, y: 1.0 / 4, v)
        XCTAssertEqual(cw.pixels[(Int(y * 3) * 2 + Int(x * 2)) * 3], 10)
    }

    func testBoxesFollowTheOrientation() throws {
        let grey = RGBImage(width: 200, height: 100, pixels: [UInt8](repeating: 90, count: 200 * 100 * 3))
        let box = LabelBox(classIndex: 0, cx: 0.2, cy: 0.2, w: 0.2, h: 0.2) // near the top-left corner
        var view = ImageView()
        view.rotate(clockwise: true) // top-left → top-right; the image is now 100×200
        let (shown, _) = try XCTUnwrap(ImageRenderer.render(image: grey, prediction: nil, view: view, colormap: .jet,
                                                             maxWidth: 100, maxHeight: 200, background: RGB(0, 0, 0), boxes: [box]))
        XCTAssertEqual([shown.width, shown.height], [100, 200])
        let c = BoxOverlay.classColors[0]
        // Oriented: x = 1 − y ∈ 0.7…0.9, y = x ∈ 0.1…0.3 → its left edge at x = 70, between y = 20 and 60.
        XCTAssertEqual(pixel(shown, 70, 40), [c.0, c.1, c.2], "left edge of the turned box")
        XCTAssertEqual(pixel(shown, 20, 40), [90, 90, 90], "nothing where the box was before turning")
    }

    func testPanShowsTheEdgeOfAZoomedImage() throws {
        // Left half black, right half white.
        var px = [UInt8](repeating: 0, count: 100 * 100 * 3)
        for y in 0..<100 { for x in 50..<100 { for c in 0..<3 { px[(y * 100 + x) * 3 + c] = 255 } } }
        let image = RGBImage(width: 100, height: 100, pixels: px)
        var view = ImageView()
        XCTAssertFalse(view.pan(dx: 1, dy: 0), "nothing to pan when the whole image is shown")
        view.zoomIn(); view.zoomIn() // 2.25×
        for _ in 0..<30 { view.pan(dx: 1, dy: 0) }
        XCTAssertEqual(view.centerX, 1 - 0.5 / view.zoom, accuracy: 1e-9, "stops at the edge")
        let crop = ImageRenderer.crop(image, view: view)
        XCTAssertEqual(Set(values(crop)), [255], "the right edge, all white")
        for _ in 0..<60 { view.pan(dx: -1, dy: 0) }
        XCTAssertEqual(Set(values(ImageRenderer.crop(image, view: view))), [0], "the left edge, all black")
        view.newCase()
        XCTAssertEqual(view.zoom, 1)
        XCTAssertEqual(view.centerX, 0.5)
    }

    func testPresetsComeFromTheImagesHistogram() {
        // Greys 50…149, 100 pixels each.
        let image = Self.greyImage(100, 100) { UInt8(50 + $0 % 100) }
        let auto = WindowPreset.auto.window(for: image, inverted: false)
        XCTAssertEqual(auto.value(50), 0)
        XCTAssertEqual(auto.value(149), 255)
        XCTAssertLessThan(auto.value(100), 140)
        XCTAssertGreaterThan(auto.value(100), 115)
        let bone = WindowPreset.bone.window(for: image, inverted: false)
        XCTAssertEqual(bone.value(80), 0, "below the 40th percentile is black in the bone window")
        XCTAssertEqual(WindowPreset.full.window(for: image, inverted: true), WindowLevel(inverted: true))
        XCTAssertEqual(WindowPreset.softTissue.window(for: image, inverted: false).value(120), 255)
        XCTAssertEqual(WindowPreset.allCases.map(\.next), [.auto, .bone, .softTissue, .full])
    }

    /// Bilinear upsampling of a small map is piecewise linear: its slope jumps at every cell centre, which draws
    /// the creases that make a 7×7 CAM look like diamonds. A crease is a spike in the second difference, so a large
    /// third difference; the cubic B-spline's slope and curvature are continuous and its third differences are several times smaller.
    func testSmoothUpsamplingHasNoCreasesAndStaysInRange() {
        var map = [Float](repeating: 0, count: 49)
        map[24] = 1; map[25] = 0.6; map[17] = 0.3
        let n = 140
        let linear = Resize.map(map, width: 7, height: 7, toWidth: n, toHeight: n)
        let cubic = Resize.mapSmooth(map, width: 7, height: 7, toWidth: n, toHeight: n)
        XCTAssertGreaterThanOrEqual(cubic.min()!, 0)
        XCTAssertLessThanOrEqual(cubic.max()!, 1)
        func crease(_ m: [Float]) -> Float {
            var worst: Float = 0
            for y in 0..<n { for x in 1..<(n - 2) {
                let r = y * n + x
                worst = max(worst, abs(m[r + 2] - 3 * m[r + 1] + 3 * m[r] - m[r - 1]))
            } }
            return worst
        }
        XCTAssertLessThan(crease(cubic) * 3, crease(linear), "cubic \(crease(cubic)), bilinear \(crease(linear))")
        var single = [Float](repeating: 0, count: 49)
        single[24] = 1
        let peak = Resize.mapSmooth(single, width: 7, height: 7, toWidth: n, toHeight: n)
        // Mirror symmetric, as the map is.
        for y in stride(from: 0, to: n, by: 7) { for x in stride(from: 0, to: n, by: 7) {
            XCTAssertEqual(peak[y * n + x], peak[x * n + y], accuracy: 1e-5)
        } }
    }
}
