import Basics
import Datasets
import Imaging
import Model
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

/// The localiser's box: dashed in the theme's colour with its score, toggled with the label boxes by `b`.
extension BoxOverlayTests {
    func testTheModelBoxIsDashedInItsOwnColourAndFollowsTheLayers() throws {
        var prediction = Prediction(probabilities: [1], attention: FeatureMap(width: 1, height: 1, values: [1]), gradcam: nil)
        prediction.detections = [Detection(box: ImageBox(x0: 0.2, y0: 0.2, x1: 0.8, y1: 0.8), score: 0.5)]
        let label = LabelBox(classIndex: 0, cx: 0.5, cy: 0.5, w: 0.2, h: 0.2)
        let cyan = RGB(0, 229, 255)
        func render(_ layers: BoxLayers) throws -> RGBImage {
            var view = ImageView()
            view.boxLayers = layers
            return try XCTUnwrap(ImageRenderer.render(image: grey(400, 400), prediction: prediction, view: view, colormap: .jet,
                                                      maxWidth: 200, maxHeight: 200, background: RGB(0, 0, 0),
                                                      boxes: [label], modelBoxColor: cyan)).0
        }
        let both = try render(.both)
        // The top edge of the model box (y = 40) from x = 40: dashes of 4 px in cyan with gaps, never solid.
        let edge = (40..<160).map { pixel(both, $0, 40) }
        XCTAssertTrue(edge.contains([0, 229, 255]), "the model box in its colour")
        XCTAssertTrue(edge.contains { $0 != [0, 229, 255] }, "dashed, not solid")
        let labelColour = BoxOverlay.classColors[0]
        XCTAssertEqual(pixel(both, 80, 100), [labelColour.0, labelColour.1, labelColour.2], "the label box stays solid in its class colour")
        XCTAssertFalse((40..<160).map { pixel(try! render(.labels), $0, 40) }.contains([0, 229, 255]), "labels only: no model box")
        XCTAssertEqual(pixel(try render(.model), 80, 100), [90, 90, 90], "model only: no label box")
        let none = try render(.none)
        XCTAssertFalse((40..<160).map { pixel(none, $0, 40) }.contains([0, 229, 255]))
        XCTAssertEqual(pixel(none, 80, 100), [90, 90, 90])
    }

    func testBKeyCyclesTheLayersAndABlindReadNeverShowsTheLabels() {
        var layers = BoxLayers.both
        var seen: [BoxLayers] = []
        for _ in 0..<4 { layers = layers.next(labelsAllowed: true); seen.append(layers) }
        XCTAssertEqual(seen, [.none, .labels, .model, .both])
        var blind = BoxLayers.both
        var blindSeen: [BoxLayers] = []
        for _ in 0..<3 { blind = blind.next(labelsAllowed: false); blindSeen.append(blind) }
        XCTAssertEqual(blindSeen, [.none, .model, .none])
        XCTAssertTrue(blindSeen.allSatisfy { !$0.showsLabels || $0 == .both } && !blindSeen.contains(.labels))
    }

    func testTheCaptionNamesWhatIsShown() {
        let found = [Detection(box: ImageBox(x0: 0.1, y0: 0.1, x1: 0.2, y1: 0.2), score: 0.83)]
        XCTAssertEqual(ImagePanel.boxCaption(labels: 2, detections: found, layers: .both), " · 2 label boxes · model box 0.83")
        XCTAssertEqual(ImagePanel.boxCaption(labels: 1, detections: found, layers: .labels), " · 1 label box · model box hidden")
        XCTAssertEqual(ImagePanel.boxCaption(labels: 1, detections: [], layers: .both), " · 1 label box · model: no fracture found")
        XCTAssertEqual(ImagePanel.boxCaption(labels: 1, detections: nil, layers: .none), " · label boxes hidden")
    }

    /// A crop classifier's CAM is drawn in its crop only: the X-ray outside it is untouched.
    func testTheCropsMapIsDrawnWhereTheCropLies() throws {
        var prediction = Prediction(probabilities: [1], attention: FeatureMap(width: 1, height: 1, values: [1]), gradcam: nil)
        prediction.maps = [CAMMethod.hiResCAM.id: FeatureMap(width: 2, height: 2, values: [1, 1, 1, 1])]
        prediction.crop = CropView(region: ImageBox(x0: 0.5, y0: 0.5, x1: 1, y1: 1),
                                   maps: [CAMMethod.hiResCAM.id: FeatureMap(width: 2, height: 2, values: [1, 1, 1, 1])])
        var view = ImageView()
        view.mode = .gradcam
        view.camMethod = .hiResCAM
        view.boxLayers = .none
        let (shown, note) = try XCTUnwrap(ImageRenderer.render(image: grey(200, 200), prediction: prediction, view: view,
                                                              colormap: .jet, maxWidth: 200, maxHeight: 200, background: RGB(0, 0, 0)))
        XCTAssertNil(note)
        XCTAssertEqual(pixel(shown, 40, 40), [90, 90, 90], "outside the crop: the X-ray as it is")
        XCTAssertNotEqual(pixel(shown, 150, 150), [90, 90, 90], "inside the crop: the heat")
        prediction.crop = nil
        let (whole, _) = try XCTUnwrap(ImageRenderer.render(image: grey(200, 200), prediction: prediction, view: view,
                                                           colormap: .jet, maxWidth: 200, maxHeight: 200, background: RGB(0, 0, 0)))
        XCTAssertNotEqual(pixel(whole, 40, 40), [90, 90, 90], "a whole-image map covers the whole image")
    }
}
