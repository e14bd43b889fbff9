@testable import Audit
import Basics
@testable import Datasets
@testable import Engine
import Foundation
@testable import Imaging
@testable import Reports
import XCTest

/// The audit on a small synthetic dataset built from the bundled sample's JPEGs.
final class AuditTests: XCTestCase {
    static let sampleImages: [String] = {
        let dir = RepoPaths.sample + "/test/images"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }()

    /// train: 6 distinct sample images. valid: a flipped+brightened PNG copy of train 0, a byte copy of train 1,
    /// an unrelated image, a corrupt file. test: a v-flipped darker copy of train 2, an unrelated image.
    func makeDataset() throws -> TempDir {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        let src = Self.sampleImages
        // Distinct sources (different file-name prefixes) from the sample.
        let picks = [0, 4, 8, 12, 16, 20, 24, 28, 32].map { src[$0] }
        for i in 0..<6 {
            t.write("train/images/t\(i).jpg", try Data(contentsOf: URL(fileURLWithPath: picks[i])))
            t.write("train/labels/t\(i).txt", "\(i) 0.5 0.5 0.2 0.2\n")
        }
        let img0 = try ImageDecoder.decode(path: picks[0]), img2 = try ImageDecoder.decode(path: picks[2])
        t.mkdir("valid/images"); t.mkdir("test/images")
        try TestPNG.write(TestPNG.augment(img0, hflip: true, vflip: false, brightness: 1.1), to: t.path + "/valid/images/flipped0.png")
        t.write("valid/labels/flipped0.txt", "0 0.5 0.5 0.2 0.2\n4 0.1 0.1 0.1 0.1\n")
        t.write("valid/images/copy1.jpg", try Data(contentsOf: URL(fileURLWithPath: picks[1])))
        t.write("valid/labels/copy1.txt", "")
        t.write("valid/images/other.jpg", try Data(contentsOf: URL(fileURLWithPath: picks[6])))
        t.write("valid/labels/other.txt", "7 0.5 0.5 0.2 0.2\n")
        t.write("valid/images/corrupt.jpg", Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]))
        t.write("valid/labels/corrupt.txt", "2 0.5 0.5 0.2 0.2\n")
        try TestPNG.write(TestPNG.augment(img2, hflip: false, vflip: true, brightness: 0.9), to: t.path + "/test/images/vflip2.png")
        t.write("test/labels/vflip2.txt", "2 0.5 0.5 0.2 0.2\n")
        t.write("test/images/other.jpg", try Data(contentsOf: URL(fileURLWithPath: picks[7])))
        t.write("test/labels/other.txt", "8 0.5 0.5 0.2 0.2\n")
        return t
    }

    func testFindsCopiesCorruptImagesAndLabelProblems() throws {
        let t = try makeDataset()
        let ds = try YOLODataset.open(root: t.path)
        let (report, survey) = DatasetAudit.run(dataset: ds)
        XCTAssertFalse(report.fatal)
        let valid = report.splits["valid"]!, test = report.splits["test"]!
        XCTAssertEqual(valid.images, 4)
        XCTAssertEqual(valid.unlabelled, ["valid/images/copy1.jpg"])
        XCTAssertEqual(valid.emptyLabels, ["valid/images/copy1.jpg"])
        XCTAssertEqual(valid.multiClassLabels, ["valid/images/flipped0.png"])
        XCTAssertEqual(valid.undecodable.map(\.path), ["valid/images/corrupt.jpg"])
        let leaks = Dictionary(uniqueKeysWithValues: valid.leaked.map { ($0.image, $0) })
        XCTAssertEqual(Set(leaks.keys), ["valid/images/flipped0.png", "valid/images/copy1.jpg"])
        XCTAssertEqual(leaks["valid/images/flipped0.png"]?.twin, "train/images/t0.jpg")
        XCTAssertEqual(leaks["valid/images/flipped0.png"]?.exact, false)
        XCTAssertGreaterThan(leaks["valid/images/flipped0.png"]!.similarity, 0.97)
        XCTAssertEqual(leaks["valid/images/copy1.jpg"]?.twin, "train/images/t1.jpg")
        XCTAssertEqual(leaks["valid/images/copy1.jpg"]?.exact, true)
        XCTAssertEqual(test.leaked.map(\.image), ["test/images/vflip2.png"])
        XCTAssertEqual(test.leaked.first?.twin, "train/images/t2.jpg")
        XCTAssertEqual(test.leakReference, ["train", "valid"])
        XCTAssertEqual(test.classCounts["Transverse Displaced"], 1)
        XCTAssertEqual(test.classCounts["Linear"], 0)

        // JSON carries the keys per split.
        let json = try JSONSerialization.jsonObject(with: report.json()) as! [String: Any]
        let splits = json["splits"] as! [String: [String: Any]]
        for key in ["images", "unlabelled", "multi_class_labels", "leaked"] { XCTAssertNotNil(splits["valid"]?[key], key) }
        let leaked = splits["valid"]!["leaked"] as! [[String: Any]]
        XCTAssertEqual(Set(leaked.first!.keys), ["image", "twin", "twin_split", "similarity", "exact"])

        // The grouped split keeps every copy with its source.
        let rows = DatasetAudit.groupedSplit(dataset: ds, grouping: DatasetAudit.sourceGroups(survey: survey))
        let split = Dictionary(uniqueKeysWithValues: rows.map { ($0.path, $0.split) })
        XCTAssertEqual(rows.count, 12)
        XCTAssertEqual(split["valid/images/flipped0.png"], split["train/images/t0.jpg"])
        XCTAssertEqual(split["valid/images/copy1.jpg"], split["train/images/t1.jpg"])
        XCTAssertEqual(split["test/images/vflip2.png"], split["train/images/t2.jpg"])
        XCTAssertEqual(DatasetAudit.groupedSplit(dataset: ds, grouping: DatasetAudit.sourceGroups(survey: survey)).map(\.split), rows.map(\.split), "deterministic")

        let text = AuditText.render(report)
        XCTAssertTrue(text.contains("train/images/t0.jpg"))
        XCTAssertTrue(text.contains("test has no"), text)
    }

    func testBundledSampleAuditHasNoLeakWithoutTrain() throws {
        let ds = try YOLODataset.open(root: RepoPaths.sample)
        let (report, _) = DatasetAudit.run(dataset: ds)
        let test = report.splits["test"]!
        XCTAssertEqual(test.images, 64)
        XCTAssertEqual(test.unlabelled, [])
        XCTAssertEqual(test.undecodable, [])
        XCTAssertEqual(test.leaked, [], "no train split to leak from")
        XCTAssertEqual(test.leakReference, [])
        XCTAssertTrue(AuditText.render(report).contains("leakage not checked"))
        XCTAssertEqual(test.classCounts["Linear"], 0)
        XCTAssertEqual(test.classCounts["Segmental"], 0)
        XCTAssertEqual(test.classCounts.values.reduce(0, +), 64)
        XCTAssertFalse(report.fatal)
    }

    func testFileNamesWithEscapeCodesAreShownInert() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        t.write("test/images/\u{1B}[2Jevil\u{07}.jpg", "not a jpeg")
        t.write("test/labels/\u{1B}[2Jevil\u{07}.txt", "")
        let (report, _) = DatasetAudit.run(dataset: try YOLODataset.open(root: t.path))
        let text = AuditText.render(report)
        XCTAssertTrue(text.contains("?[2Jevil?.jpg"), text)
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
    }

    func testTerminalSafeTextNeutralisesControlsSeparatorsAndBidi() {
        // C0, DEL, C1 (CSI), line/paragraph separators, bidi embeddings/overrides and isolates.
        let unsafe: [UInt32] = [0x00, 0x07, 0x09, 0x0A, 0x0D, 0x1B, 0x1F, 0x7F, 0x80, 0x9B, 0x9F,
                                0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
        for v in unsafe {
            let s = "a" + String(Character(Unicode.Scalar(v)!)) + "b"
            XCTAssertEqual(TerminalSafeText.clean(s), "a?b", String(format: "U+%04X", v))
        }
        // Printable text outside those ranges is kept (é, ✓, U+2027 and U+2030 beside the separators, U+2065).
        let kept = "é ✓ \u{2027}\u{2030}\u{2065}\u{206A} 骨折"
        XCTAssertEqual(TerminalSafeText.clean(kept), kept)
        // Multi-line reports keep their newlines, nothing else.
        XCTAssertEqual(TerminalSafeText.clean("a\nb\r\u{202E}c\n", keepingNewlines: true), "a\nb??c\n")
        XCTAssertEqual(TerminalSafeText.clean("a\nb"), "a?b")
    }

    func testNoDecodableImageIsFatal() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        t.write("test/images/a.jpg", "not a jpeg"); t.write("test/labels/a.txt", "0 0.5 0.5 0.5 0.5\n")
        let (report, _) = DatasetAudit.run(dataset: try YOLODataset.open(root: t.path))
        XCTAssertTrue(report.fatal)
        XCTAssertEqual(report.splits["test"]?.undecodable.count, 1)
        XCTAssertTrue(report.splits["test"]!.problems.contains { $0.contains("cannot decode") })
    }
}
