import Basics
import Foundation
@testable import Imaging
import Model
import XCTest

/// The crop a crop classifier sees equals training/crops.py's (scripts/fixtures/make_pipeline_fixtures.py): the
/// same pixel square on 400 boxes, ties at half pixels included, and the same 224×224 pixels after the resize.
final class CropRuleTests: XCTestCase {
    private struct Reference: Decodable {
        struct Case: Decodable { let width: Int; let height: Int; let box: [Double]; let crop: [Int] }
        let pad: Double
        let min_side: Double
        let cases: [Case]
        let image: String
        let image_box: [Double]
        let image_crop: [Int]
        let image_crop_224_rgb_base64: String
    }

    private func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf:
            Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/parity/crop-rule.json")))
    }

    func testTheSquareEqualsPythonsOnEveryCase() throws {
        let r = try reference()
        let rule = CropRule(pad: r.pad, minSide: r.min_side)
        XCTAssertEqual(r.cases.count, 400)
        for c in r.cases {
            let box = ImageBox(x0: c.box[0], y0: c.box[1], x1: c.box[2], y1: c.box[3])
            let s = rule.pixelSquare(around: box, width: c.width, height: c.height)
            XCTAssertEqual([s.left, s.top, s.left + s.side, s.top + s.side], c.crop, "\(c.width)×\(c.height) \(c.box)")
        }
    }

    func testTheCropsPixelsEqualPILs() throws {
        let r = try reference()
        let image = try ImageDecoder.decode(path: Fixtures.repoRoot.appendingPathComponent(r.image).path)
        let rule = CropRule(pad: r.pad, minSide: r.min_side)
        let box = ImageBox(x0: r.image_box[0], y0: r.image_box[1], x1: r.image_box[2], y1: r.image_box[3])
        let s = rule.pixelSquare(around: box, width: image.width, height: image.height)
        XCTAssertEqual([s.left, s.top, s.left + s.side, s.top + s.side], r.image_crop)
        let crop = rule.cut(image, around: box).pixels
        XCTAssertEqual([crop.width, crop.height], [s.side, s.side])
        let resized = Resize.pilBilinear(crop, width: 224, height: 224)
        let want = [UInt8](try XCTUnwrap(Data(base64Encoded: r.image_crop_224_rgb_base64)))
        XCTAssertEqual(resized.pixels.count, want.count)
        let worst = zip(resized.pixels, want).map { abs(Int($0) - Int($1)) }.max() ?? 255
        XCTAssertLessThanOrEqual(worst, 1, "PIL's bilinear resize of the same pixels, within one level")
        // No box (the localiser found nothing), or one that cannot be used: the whole image.
        XCTAssertEqual(rule.cut(image, around: nil).pixels, image)
        XCTAssertEqual(rule.cut(image, around: nil).region, ImageBox(x0: 0, y0: 0, x1: 1, y1: 1))
        let region = rule.cut(image, around: box).region
        XCTAssertEqual([region.x0 * Double(image.width), region.y0 * Double(image.height), region.x1 * Double(image.width)],
                       r.image_crop.prefix(3).map(Double.init), "the region is the square that was cut")
        XCTAssertEqual(rule.cut(image, around: ImageBox(x0: 0.5, y0: 0.5, x1: 0.5, y1: 0.9)).pixels, image)
    }
}
