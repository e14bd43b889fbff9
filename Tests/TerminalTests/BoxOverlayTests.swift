import Datasets
import Imaging
@testable import Terminal
import XCTest

/// The label boxes drawn over the X-ray (both graphics modes draw these pixels).
final class BoxOverlayTests: XCTestCase {
    func grey(_ w: Int, _ h: Int) -> RGBImage { RGBImage(width: w, height: h, pixels: [UInt8](repeating: 90, count: w * h * 3)) }
    func pixel(_ img: RGBImage, _ x: Int, _ y: Int) -> [UInt8] { Array(img.pixels[((y * img.width + x) * 3)..<((y * img.width + x) * 3 + 3)]) }

    func testBoxOutlineInItsClassColourAndToggle() throws {
        let box = LabelBox(classIndex: 2, cx: 0.5, cy: 0.5, w: 0.5, h: 0.5)   // 25…75 % of the image
        var view = ImageView()
        let (shown, _) = try XCTUnwrap(ImageRenderer.render(image: grey(200, 200), prediction: nil, view: view, colormap: .jet,
                                                             maxWidth: 100, maxHeight: 100, background: RGB(0, 0, 0), boxes: [box]))
        XCTAssertEqual(shown.width, 100)
        let colour = BoxOverlay.classColors[2]
        XCTAssertEqual(pixel(shown, 25, 50), [colour.0, colour.1, colour.2], "left edge")
        XCTAssertEqual(pixel(shown, 50, 25), [colour.0, colour.1, colour.2], "top edge")
        XCTAssertEqual(pixel(shown, 50, 50), [90, 90, 90], "inside stays the X-ray")
        XCTAssertEqual(pixel(shown, 10, 10), [90, 90, 90], "outside stays the X-ray")
        view.boxLayers = .none
        let (hidden, _) = try XCTUnwrap(ImageRenderer.render(image: grey(200, 200), prediction: nil, view: view, colormap: .jet,
                                                              maxWidth: 100, maxHeight: 100, background: RGB(0, 0, 0), boxes: [box]))
        XCTAssertEqual(pixel(hidden, 25, 50), [90, 90, 90])
    }

    func testZoomMovesTheBoxAndOutOfRangeBoxesAreClipped() throws {
        var view = ImageView()
        view.zoom = 2   // centre crop 25…75 %: a box at 40…60 % spans 30…70 % of the pixels
        let box = LabelBox(classIndex: 0, cx: 0.5, cy: 0.5, w: 0.2, h: 0.2)
        let (zoomed, _) = try XCTUnwrap(ImageRenderer.render(image: grey(200, 200), prediction: nil, view: view, colormap: .jet,
                                                              maxWidth: 100, maxHeight: 100, background: RGB(0, 0, 0), boxes: [box]))
        let c = BoxOverlay.classColors[0]
        XCTAssertEqual(pixel(zoomed, 30, 50), [c.0, c.1, c.2])
        XCTAssertEqual(pixel(zoomed, 25, 50), [90, 90, 90])
        // Reaching past the right edge: drawn up to the edge, no crash.
        let wide = LabelBox(classIndex: 1, cx: 0.9, cy: 0.5, w: 0.6, h: 0.2)
        let (clipped, _) = try XCTUnwrap(ImageRenderer.render(image: grey(200, 200), prediction: nil, view: ImageView(), colormap: .jet,
                                                               maxWidth: 100, maxHeight: 100, background: RGB(0, 0, 0), boxes: [wide]))
        let c1 = BoxOverlay.classColors[1]
        XCTAssertEqual(pixel(clipped, 99, 50), [c1.0, c1.1, c1.2], "the clipped box closes at the image edge")
    }
}
