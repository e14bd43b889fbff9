import Basics
import Foundation
@testable import Imaging
import Model
@testable import Reports
import XCTest

final class GradcamFigureTests: XCTestCase {
    func testThreePanelsWithTitlesAndOverlay() {
        let image = Fixtures.pattern(width: 200, height: 100)
        var cam = [Float](repeating: 0, count: 49)
        cam[24] = 1
        let attention = FeatureMap(width: 7, height: 7, values: (0..<49).map { 0.2 + Float($0) / 100 })
        let figure = GradcamFigure.render(image: image, gradcam: FeatureMap(width: 7, height: 7, values: cam),
                                          attention: attention, predicted: "Oblique", confidence: 0.873,
                                          panelSize: 160, caption: "x.jpg")
        XCTAssertEqual(figure.width, 2 * 16 + 3 * 160 + 2 * 16)
        // Panel 1 is the image fitted to 160×80, centred in its box below the title.
        let shown = image.fitted(maxWidth: 160, maxHeight: 160)
        XCTAssertEqual(shown.height, 80)
        let top = 16 + Canvas.lineHeight(scale: 1) + 8      // "Grad-CAM: Oblique (87.3%)" needs scale 1 at 160 px
        var panel1 = [UInt8]()
        for y in 0..<80 {
            let start: Int = ((top + y) * figure.width + 16) * 3
            panel1 += figure.pixels[start..<(start + 160 * 3)]
        }
        XCTAssertEqual(panel1, shown.pixels)
        // Panel 2 is exactly the notebook's overlay of the same fitted image.
        let overlay = Overlay.heatmap(cam, mapWidth: 7, mapHeight: 7, over: shown)
        let x2 = 16 + 160 + 16
        XCTAssertTrue(figure.pixel(x: x2 + 80, y: top + 40) == overlay.pixel(x: 80, y: 40))
        XCTAssertTrue(figure.pixel(x: x2 + 3, y: top + 70) == overlay.pixel(x: 3, y: 70))
        // The attention map is min–max scaled: its first cell is the coldest colour, its last the hottest.
        let x3 = 16 + 2 * (160 + 16)
        XCTAssertTrue(figure.pixel(x: x3, y: top) == Colormap.jet.rgb(0))
        XCTAssertTrue(figure.pixel(x: x3 + 159, y: top + 79) == Colormap.jet.rgb(1))
        // Titles are drawn (ink above the images) and the rest of the margin is background.
        let titleInk = (16..<(16 + 9)).contains { y in (0..<figure.width).contains { x in figure.pixel(x: x, y: y) == GradcamFigure.ink } }
        XCTAssertTrue(titleInk)
        XCTAssertTrue(figure.pixel(x: 2, y: 2) == GradcamFigure.background)
        XCTAssertEqual(GradcamFigure.percent(0.873), "87.3%")
        XCTAssertEqual(GradcamFigure.format(-0.0456), "-0.046")
    }

    func testFlatAttentionDoesNotDivideByZero() {
        let flat = FeatureMap(width: 2, height: 2, values: [0.5, 0.5, 0.5, .nan])
        let (map, lo, hi) = flat.normalized()
        XCTAssertEqual(map.values, [0, 0, 0, 0])
        XCTAssertEqual(lo, 0.5)
        XCTAssertEqual(hi, 0.5)
    }
}

extension GradcamFigureTests {
    /// Renders a real X-ray with synthetic maps and decodes the PNG back; set FRACVIEW_FIGURE_OUT=path to keep it.
    func testRealImageFigureRoundTrip() throws {
        let path = try XCTUnwrap(Fixtures.sampleImages().first).path
        let image = try ImageDecoder.decode(path: path)
        let cam = FeatureMap(width: 7, height: 7, values: (0..<49).map { i in
            let dx = Float(i % 7) - 4.2, dy = Float(i / 7) - 2.5
            return max(0, 1 - (dx * dx + dy * dy) / 9)
        })
        let attention = FeatureMap(width: 7, height: 7, values: (0..<49).map { 0.3 + 0.4 * Float(($0 * 37) % 49) / 49 })
        let figure = GradcamFigure.render(image: image, gradcam: cam, attention: attention, predicted: "Transverse Displaced",
                                          confidence: 0.9312, caption: "\(URL(fileURLWithPath: path).lastPathComponent) | test")
        let data = try PNGWriter.encode(figure)
        XCTAssertEqual(try ImageDecoder.decode(data: data, name: "figure"), figure)
        if let out = ProcessInfo.processInfo.environment["FRACVIEW_FIGURE_OUT"] { try PNGWriter.write(figure, to: out) }
    }
}
