@testable import Audit
@testable import Datasets
import Foundation
import XCTest

final class DatasetTests: XCTestCase {
    func testBundledSampleReadsSixtyFourLabelledTestCases() throws {
        let ds = try YOLODataset.open(root: RepoPaths.sample)
        XCTAssertEqual(ds.classes.count, 10)
        XCTAssertEqual(ds.classes[8], "Transverse Displaced")
        XCTAssertEqual(ds.splits, ["test"])
        let cases = try ds.cases(split: "test")
        XCTAssertEqual(cases.count, 64)
        XCTAssertTrue(cases.allSatisfy { $0.truth.classIndex != nil })
        XCTAssertEqual(cases.map(\.relativePath), cases.map(\.relativePath).sorted())
        XCTAssertTrue(cases[0].relativePath.hasPrefix("test/images/"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: cases[0].imagePath))
        XCTAssertThrowsError(try ds.cases(split: "train"))
        XCTAssertEqual(ds.problems, [])
    }

    func testLabelRules() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        for name in ["a", "b", "c", "d", "e", "f", "g", "h"] { t.write("train/images/\(name).jpg", "x") }
        t.write("train/labels/a.txt", "8 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.1 0.1\n8 0.3 0.3 0.1 0.1\n")
        t.write("train/labels/b.txt", "")                         // empty → unlabelled, never class 0
        // c: no label file at all
        t.write("train/labels/d.txt", "12 0.5 0.5 0.2 0.2\n")      // id out of range
        t.write("train/labels/e.txt", "1 0.5 0.5 0.2\n")           // 4 tokens
        t.write("train/labels/f.txt", "1 0.5 1.5 0.2 0.2\n")       // coordinate outside [0, 1]
        t.write("train/labels/g.txt", "\n  \r\n0 0.5 0.5 0.2 0.2\r\n") // blank lines and CRLF are fine
        t.write("train/labels/h.txt", "x 0.5 0.5 0.2 0.2\n")       // not an integer
        t.write("train/labels/orphan.txt", "1 0.5 0.5 0.2 0.2\n")
        let ds = try YOLODataset.open(root: t.path)
        let cases = try ds.cases(split: "train")
        let byName = Dictionary(uniqueKeysWithValues: cases.map { (($0.relativePath as NSString).lastPathComponent, $0) })
        XCTAssertEqual(byName["a.jpg"]?.truth, .labelled(8))
        XCTAssertEqual(byName["a.jpg"]?.classesInLabelFile, [8, 2])
        XCTAssertEqual(byName["b.jpg"]?.truth, .unlabelled(reason: "empty label file"))
        XCTAssertEqual(byName["c.jpg"]?.truth, .unlabelled(reason: "no label file"))
        XCTAssertEqual(byName["g.jpg"]?.truth, .labelled(0))
        for bad in ["d.jpg", "e.jpg", "f.jpg", "h.jpg"] {
            guard case .unlabelled(let reason)? = byName[bad]?.truth else { return XCTFail("\(bad) should be unlabelled") }
            XCTAssertTrue(reason.hasPrefix("bad label file: line 1"), reason)
        }
        XCTAssertTrue(ds.problems.contains { $0.contains("d.txt") && $0.contains("out of range") })
        XCTAssertTrue(ds.problems.contains { $0.contains("e.txt") && $0.contains("found 4") })
        XCTAssertTrue(ds.problems.contains { $0.contains("f.txt") && $0.contains("outside [0, 1]") })
        XCTAssertEqual(ds.orphanLabels["train"], ["train/labels/orphan.txt"])
        XCTAssertEqual(AuditSummary(dataset: ds, split: "train").unlabelled, 6)
        XCTAssertEqual(AuditSummary(dataset: ds, split: "train").multiClass, 1)
        // The TUI builds its headline from the cases it already holds: same counts, findings only.
        let fromCases = AuditSummary(cases: cases, split: "train")
        XCTAssertEqual(fromCases.unlabelled, 6)
        XCTAssertEqual(fromCases.multiClass, 1)
        XCTAssertEqual(fromCases.findings, "6 unlabelled · 1 multi-class")
        XCTAssertNil(AuditSummary(cases: cases.filter { $0.truth == .labelled(0) }, split: "train").findings)
    }

    func testNamesAsMappingAndNcMismatch() throws {
        let t = TempDir()
        t.write("data.yaml", "nc: 3\nnames:\n  0: cat\n  1: dog\n")
        t.write("test/images/a.png", "x"); t.write("test/labels/a.txt", "1 0.5 0.5 0.5 0.5\n")
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertEqual(ds.classes, ["cat", "dog"])
        XCTAssertTrue(ds.problems.contains { $0.contains("`nc` is 3 but `names` lists 2") }, "\(ds.problems)")
        XCTAssertEqual(try ds.cases(split: "test").first?.truth, .labelled(1))
    }

    /// Issue #15: a UTF-8 byte-order mark before data.yaml's first key is not "not valid YAML" (PyYAML reads it).
    func testByteOrderMarkInDataYAML() throws {
        let t = TempDir()
        t.write("data.yaml", "\u{FEFF}names: [cat, dog]\n")
        t.write("test/images/a.png", "x"); t.write("test/labels/a.txt", "1 0.5 0.5 0.5 0.5\n")
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertEqual(ds.classes, ["cat", "dog"])
        XCTAssertTrue(ds.problems.isEmpty, "\(ds.problems)")
    }

    func testLabelBoxesAreKept() throws {
        let t = TempDir()
        t.write("data.yaml", "names: [cat, dog]\n")
        t.write("test/images/a.png", "x"); t.write("test/labels/a.txt", "1 0.5 0.4 0.2 0.1\n0 0.1 0.1 0.05 0.05\n")
        let c = try XCTUnwrap(try YOLODataset.open(root: t.path).cases(split: "test").first)
        XCTAssertEqual(c.boxes, [LabelBox(classIndex: 1, cx: 0.5, cy: 0.4, w: 0.2, h: 0.1),
                                 LabelBox(classIndex: 0, cx: 0.1, cy: 0.1, w: 0.05, h: 0.05)])
        XCTAssertEqual(c.classesInLabelFile, [1, 0])
    }

    func testMissingNamesFallsBackToPlaceholders() throws {
        let t = TempDir()
        t.write("data.yaml", "train: ../train/images\n")
        t.write("valid/images/a.jpg", "x"); t.write("valid/labels/a.txt", "4 0.5 0.5 0.5 0.5\n")
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertTrue(ds.problems.contains("data.yaml: no `names` key"), "\(ds.problems)")
        XCTAssertEqual(ds.classes.count, 5)
        XCTAssertEqual(try ds.cases(split: "valid").first?.truth, .labelled(4))
    }

    func testUnparsableYAMLIsAProblemNotACrash() throws {
        let t = TempDir()
        t.write("data.yaml", "names: [a, b\n  : : :\n")
        t.write("test/images/a.jpg", "x"); t.write("test/labels/a.txt", "0 0.5 0.5 0.5 0.5\n")
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertTrue(ds.problems.first?.hasPrefix("data.yaml: not valid YAML") ?? false, "\(ds.problems)")
        XCTAssertEqual(try ds.cases(split: "test").count, 1)
    }

    func testNothingUsableThrowsOneLine() {
        let t = TempDir()
        XCTAssertThrowsError(try YOLODataset.open(root: t.path)) { error in
            XCTAssertFalse("\(error)".contains("\n")); XCTAssertTrue("\(error)".contains("not a YOLO dataset"))
        }
        XCTAssertThrowsError(try YOLODataset.open(root: t.path + "/nope"))
    }

    func testNonUTF8FileNameIsReportedAndSkipped() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        t.write("test/images/ok.jpg", "x"); t.write("test/labels/ok.txt", "0 0.5 0.5 0.5 0.5\n")
        // A Latin-1 "é" (0xE9) alone is not UTF-8.
        let bytes = Array((t.path + "/test/images/bad").utf8) + [0xE9] + Array(".jpg".utf8) + [0]
        let fd = bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0); close(fd)
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertEqual(try ds.cases(split: "test").count, 1)
        XCTAssertTrue(ds.problems.contains { $0.contains("bad\\xE9.jpg") && $0.contains("not UTF-8") }, "\(ds.problems)")
    }

    func testSplitManifestRoundTrip() throws {
        let t = TempDir()
        let rows: [(path: String, split: String)] = [("b/x.jpg", "test"), ("a/with,comma \"q\".jpg", "train")]
        try SplitManifest.write(rows, to: t.path + "/m.csv")
        let text = try String(contentsOfFile: t.path + "/m.csv", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("path,split\n\"a/with,comma \"\"q\"\".jpg\",train\n"), text)
        XCTAssertEqual(try SplitManifest.read(path: t.path + "/m.csv"), ["b/x.jpg": "test", "a/with,comma \"q\".jpg": "train"])
    }
}
