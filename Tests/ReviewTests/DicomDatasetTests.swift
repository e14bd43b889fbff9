@testable import Datasets
import Foundation
import XCTest

/// DICOM files in datasets: a YOLO layout with .dcm images, a plain folder without labels, and `fracview decode`.
final class DicomDatasetTests: XCTestCase {
    static let fixtures = RepoPaths.root.appendingPathComponent("Tests/Fixtures/dicom").path
    func dicom(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + name)) }

    func testYOLOLayoutWithDICOMImages() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        t.write("test/images/a.dcm", try dicom("explicit_le.dcm"))
        t.write("test/labels/a.txt", "3 0.5 0.5 0.2 0.2\n")
        t.write("test/images/b.bmp", Data([0x42, 0x4D]))   // not an image fracview reads: not listed
        let ds = try YOLODataset.open(root: t.path)
        let cases = try ds.cases(split: "test")
        XCTAssertEqual(cases.map(\.relativePath), ["test/images/a.dcm"])
        XCTAssertEqual(cases.first?.truth.classIndex, 3)
        let predict = try Fracview.run(["predict", "--json", "--weights", RepoPaths.tinyWeights, t.path + "/test/images/a.dcm"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: predict.stdout) as? [String: Any])
    }

    func testPlainFolderIsOneUnlabelledSplit() throws {
        let t = TempDir()
        t.write("a.dcm", try dicom("jpeg_lossless.dcm"))
        t.write("b.dcm", try dicom("monochrome1.dcm"))
        t.write("c.jpg", try Data(contentsOf: URL(fileURLWithPath: AuditTests.sampleImages[0])))
        t.write("notes.txt", "not an image")
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertEqual(ds.splits, [YOLODataset.plainFolderSplit])
        XCTAssertEqual(ds.classes, [], "no data.yaml: the classes come from the model")
        let cases = try ds.cases(split: YOLODataset.plainFolderSplit)
        XCTAssertEqual(cases.map(\.relativePath), ["a.dcm", "b.dcm", "c.jpg"])
        XCTAssertTrue(cases.allSatisfy { $0.truth.classIndex == nil })
        XCTAssertEqual(ds.problems, [])
    }

    func testDecodeCommandWritesAGreyPNG() throws {
        let t = TempDir()
        let out = t.path + "/out.png"
        let result = try Fracview.run(["decode", Self.fixtures + "/rle.dcm", "-o", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(String(decoding: result.stdout, as: UTF8.self).contains("RLE"))
        let png = try Data(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(png[25], 0, "colour type 0: 8-bit grey")
        XCTAssertEqual(png[24], 8, "bit depth 8")
        let bad = try Fracview.run(["decode", Self.fixtures + "/jpeg2000.dcm", "-o", out])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("JPEG 2000"), bad.stderr)
    }
}
