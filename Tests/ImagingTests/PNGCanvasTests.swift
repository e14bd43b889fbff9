import Foundation
@testable import Imaging
import XCTest

final class PNGCanvasTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testPNGRoundTripAndAtomicWrite() throws {
        let image = Fixtures.pattern(width: 31, height: 7)
        let data = try PNGWriter.encode(image)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(try ImageDecoder.decode(data: data, name: "x"), image)
        let path = directory.appendingPathComponent("out.png").path
        try PNGWriter.write(Fixtures.pattern(width: 3, height: 3), to: path)
        try PNGWriter.write(image, to: path)                  // replaces the old file
        XCTAssertEqual(try ImageDecoder.decode(path: path), image)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["out.png"], "no temporary left")
    }

    func testPNGWriteErrorsAreOneLine() {
        let image = Fixtures.pattern(width: 3, height: 3)
        XCTAssertThrowsError(try PNGWriter.write(image, to: "/nonexistent-dir/x.png")) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
        XCTAssertThrowsError(try PNGWriter.write(image, to: directory.path)) { error in   // a directory
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertThrowsError(try PNGWriter.encode(RGBImage(width: 0, height: 0, pixels: [])))
    }

    func testCanvasTextAndMeasurement() {
        XCTAssertEqual(Canvas.textWidth("A"), 5)
        XCTAssertEqual(Canvas.textWidth("AB"), 11)
        XCTAssertEqual(Canvas.textWidth("AB", scale: 3), 33)
        XCTAssertEqual(Canvas.textWidth("ABC\nA"), 17)
        XCTAssertEqual(Canvas.textWidth(""), 0)
        var canvas = Canvas(width: 40, height: 20)
        canvas.text("I", x: 2, y: 3, color: (255, 0, 0), scale: 2)
        // Glyph I: a bar of 3 at the top (columns 1-3) and the stem in column 2; scale 2 doubles each pixel.
        XCTAssertTrue(canvas.image.pixel(x: 2 + 2 * 2, y: 3 + 2 * 3) == (255, 0, 0))   // stem, row 3
        XCTAssertTrue(canvas.image.pixel(x: 2 + 2 * 2 + 1, y: 3 + 2 * 3 + 1) == (255, 0, 0))
        XCTAssertTrue(canvas.image.pixel(x: 2, y: 3) == (255, 255, 255))             // column 0 is empty
        XCTAssertTrue(canvas.image.pixel(x: 2 + 2 * 1, y: 3) == (255, 0, 0))          // top bar
        // Ink stays inside the measured box.
        var inked = [(Int, Int)]()
        for y in 0..<20 { for x in 0..<40 where canvas.image.pixel(x: x, y: y) != (255, 255, 255) { inked.append((x, y)) } }
        XCTAssertFalse(inked.isEmpty)
        XCTAssertTrue(inked.allSatisfy { $0.0 >= 2 && $0.0 < 2 + Canvas.textWidth("I", scale: 2) && $0.1 >= 3 && $0.1 < 3 + 16 })
        // Every printable character draws something except space; others fall back to "?".
        for code in 33...126 {
            var c = Canvas(width: 8, height: 8)
            c.text(String(UnicodeScalar(UInt8(code))), x: 0, y: 0)
            XCTAssertNotEqual(c.image, Canvas(width: 8, height: 8).image, "glyph \(code) is empty")
        }
        var a = Canvas(width: 8, height: 8), b = Canvas(width: 8, height: 8)
        a.text("é", x: 0, y: 0)
        b.text("?", x: 0, y: 0)
        XCTAssertEqual(a.image, b.image)
    }

    func testCanvasClipsEverything() {
        var canvas = Canvas(width: 10, height: 10, background: (0, 0, 0))
        canvas.fillRect(x: -5, y: -5, width: 8, height: 8, color: (9, 9, 9))
        canvas.draw(Fixtures.pattern(width: 30, height: 30), x: 7, y: -3)
        canvas.text("Hello, world", x: 6, y: 8, scale: 4)
        canvas.line(from: (-3, -3), to: (20, 12), color: (1, 2, 3))
        canvas.strokeRect(x: 1, y: 1, width: 20, height: 20, color: (4, 4, 4))
        XCTAssertEqual(canvas.image.pixels.count, 300)
        XCTAssertTrue(canvas.image.pixel(x: 2, y: 2) == (9, 9, 9) || canvas.image.pixel(x: 2, y: 2) == (1, 2, 3))
        XCTAssertTrue(canvas.image.pixel(x: 0, y: 9) == (0, 0, 0))
        let source = Fixtures.pattern(width: 30, height: 30)
        XCTAssertTrue(canvas.image.pixel(x: 8, y: 0) == source.pixel(x: 1, y: 3))
    }

    func testFittedKeepsAspect() {
        let image = Fixtures.pattern(width: 640, height: 480)
        let fitted = image.fitted(maxWidth: 224, maxHeight: 224)
        XCTAssertEqual(fitted.width, 224)
        XCTAssertEqual(fitted.height, 168)
        XCTAssertEqual(Canvas.fitting("Transverse Displaced", width: Canvas.textWidth("Transverse..."), scale: 1), "Transverse...")
    }
}
