import Foundation
@testable import Imaging
import XCTest

final class ResizeTests: XCTestCase {
    /// Resize.pilBilinear is bit-exact with PIL's Image.resize(BILINEAR): shrink, enlarge, non-square,
    /// one-pixel outputs, one dimension unchanged, and real X-rays (640×640 JPEG) to 224×224.
    func testMatchesPILExactly() throws {
        let cases = try XCTUnwrap(Fixtures.json("resize/cases.json") as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 25)
        for entry in cases {
            let sourceName = entry["source"] as! String
            let size = entry["size"] as! [Int]
            let source = (entry["source_in_repo"] as? Bool) == true
                ? try ImageDecoder.decode(path: Fixtures.repoRoot.appendingPathComponent(sourceName).path)
                : try Fixtures.rgb(Fixtures.url("resize/" + sourceName))
            XCTAssertEqual([source.width, source.height], entry["source_size"] as! [Int])
            let expected = try Fixtures.rgb(Fixtures.url("resize/" + (entry["expected"] as! String)))
            let resized = Resize.pilBilinear(source, width: size[0], height: size[1])
            XCTAssertEqual(resized, expected, "\(sourceName) → \(size): \(firstDifference(resized, expected))")
        }
    }

    func testSameSizeIsIdentityAndConstantStaysConstant() {
        let image = Fixtures.pattern(width: 9, height: 5)
        XCTAssertEqual(Resize.pilBilinear(image, width: 9, height: 5), image)
        let flat = RGBImage(width: 13, height: 7, pixels: [UInt8](repeating: 77, count: 13 * 7 * 3))
        for (w, h) in [(1, 1), (5, 3), (40, 21), (13, 2)] {
            let out = Resize.pilBilinear(flat, width: w, height: h)
            XCTAssertEqual(out.pixels, [UInt8](repeating: 77, count: w * h * 3), "\(w)x\(h)")
        }
    }

    /// OpenCV INTER_LINEAR on floats: half-pixel centres, clamped edges (values worked out by hand).
    func testMapMatchesOpenCVLinear() {
        // 2×1 → 4×1: x = (d + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamp, 0.25, 0.75, clamp.
        XCTAssertEqual(Resize.map([0, 1], width: 2, height: 1, toWidth: 4, toHeight: 1), [0, 0.25, 0.75, 1])
        // Vertical as well, and an exact copy at the same size.
        let m: [Float] = [0, 2, 4, 6]
        XCTAssertEqual(Resize.map(m, width: 2, height: 2, toWidth: 2, toHeight: 2), m)
        let up = Resize.map(m, width: 2, height: 2, toWidth: 4, toHeight: 4)
        XCTAssertEqual(up[0], 0)
        // (1,1): fx = fy = 0.25 → rows 0.5 and 4.5 → 0.5·0.75 + 4.5·0.25 = 1.5.
        XCTAssertEqual(up[5], 1.5, accuracy: 1e-6)
        XCTAssertEqual(up[15], 6)
        // 7×7 → 224×224 keeps the range and the maximum's place.
        var cam = [Float](repeating: 0, count: 49)
        cam[2 * 7 + 5] = 1
        let big = Resize.map(cam, width: 7, height: 7, toWidth: 224, toHeight: 224)
        let argmax = big.indices.max { big[$0] < big[$1] }!
        XCTAssertEqual(argmax % 224 / 32, 5)
        XCTAssertEqual(argmax / 224 / 32, 2)
        XCTAssertLessThanOrEqual(big.max()!, 1)
        XCTAssertGreaterThanOrEqual(big.min()!, 0)
    }
}
