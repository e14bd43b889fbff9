@testable import Datasets
import Foundation
@testable import Imaging
@testable import Metrics
@testable import Model
@testable import Reports
import XCTest

/// `fracview evaluate`'s pieces end to end with the engine's tiny random test model.
final class EvaluationTests: XCTestCase {
    func classifier() throws -> FractureClassifier {
        guard FileManager.default.fileExists(atPath: RepoPaths.tinyWeights) else {
            throw MissingFromTheBuild("the committed engine test weights are missing")
        }
        return try FractureClassifier(contentsOf: RepoPaths.tinyWeights)
    }

    func testRunnerScoresDecodableCasesAndListsTheOthers() throws {
        let model = try classifier()
        let ds = try YOLODataset.open(root: RepoPaths.sample)
        var cases = Array(try ds.cases(split: "test").prefix(4))
        let t = TempDir()
        t.write("broken.jpg", Data([0xFF, 0xD8, 0xFF, 0x00]))
        cases.append(DatasetCase(imagePath: t.path + "/broken.jpg", relativePath: "test/images/broken.jpg", split: "test",
                                 truth: .labelled(0), classesInLabelFile: [0]))
        cases.append(DatasetCase(imagePath: cases[0].imagePath, relativePath: "test/images/unlabelled.jpg", split: "test",
                                 truth: .unlabelled(reason: "empty label file"), classesInLabelFile: []))
        let mapping = try EvaluationRunner.classMapping(datasetClasses: ds.classes, modelClasses: model.info.classes, cases: cases)
        let outcome = EvaluationRunner.run(cases: cases, classifier: model, mapping: mapping)
        XCTAssertEqual(outcome.evaluated.count, 5)
        XCTAssertEqual(outcome.undecodable.count, 1)
        XCTAssertTrue(outcome.undecodable[0].hasPrefix("test/images/broken.jpg: "))
        XCTAssertNil(outcome.evaluated[4].truth, "unlabelled stays unlabelled")
        // The runner's logits are the model's: softmax of them gives the model's probabilities.
        let image = try ImageDecoder.decode(path: cases[0].imagePath)
        let input = ModelInput.tensor(from: image, width: 224, height: 224, mean: model.info.mean, std: model.info.std)
        let direct = model.run(input: input, maps: .none)
        let p = Softmax.probabilities(outcome.evaluated[0].logits)
        for (a, b) in zip(p, direct.probabilities) { XCTAssertEqual(a, Double(b), accuracy: 1e-5) }

        let report = EvaluationReport(cases: outcome.evaluated, classes: model.info.classes, validation: nil, resamples: 20)
        XCTAssertEqual(report.n, 4)
        XCTAssertEqual(report.unlabelled, ["test/images/unlabelled.jpg"])
        XCTAssertEqual(report.confusionMatrix.joined().reduce(0, +), 4)
    }

    func testClassMappingIsByName() throws {
        let cases = [DatasetCase(imagePath: "", relativePath: "a", split: "test", truth: .labelled(1), classesInLabelFile: [1])]
        XCTAssertEqual(try EvaluationRunner.classMapping(datasetClasses: ["a", "b"], modelClasses: ["b", "a"], cases: cases), [1: 0])
        XCTAssertThrowsError(try EvaluationRunner.classMapping(datasetClasses: ["a", "c"], modelClasses: ["a", "b"], cases: cases)) {
            XCTAssertTrue("\($0)".contains("\"c\""))
        }
    }

    func report() -> EvaluationReport {
        let classes = ["Comminuted", "Healthy", "Transverse Displaced", "=cmd"]
        var rng = SplitMix64(seed: 3)
        let cases = (0..<40).map { i -> EvaluatedCase in
            let truth = [0, 1, 2][i % 3]
            var logits = (0..<4).map { _ in Double(rng.next() % 1000) / 300 }
            logits[truth] += 1.5
            return EvaluatedCase(relativePath: i == 0 ? "=HYPERLINK(\"x\").jpg" : "test/images/\(i).jpg", truth: truth, logits: logits)
        }
        return EvaluationReport(cases: cases, classes: classes, validation: cases, resamples: 30)
    }

    func testTextReportShowsUndefinedAsNA() {
        let text = EvaluationText.render(report())
        XCTAssertTrue(text.contains("(no cases in this split)"), text)
        XCTAssertTrue(text.contains("n/a"))
        XCTAssertTrue(text.contains("Critical      Comminuted → Transverse Displaced"))
        XCTAssertTrue(text.contains("Critical      Transverse Displaced → Healthy"))
        XCTAssertTrue(text.contains("Temperature   T = "))
    }

    func testFiguresArePNGsOfTheExpectedSize() throws {
        let r = report()
        let cm = EvaluationFigures.confusionMatrix(r), rel = EvaluationFigures.reliabilityDiagram(r)
        for image in [cm, rel] {
            let back = try ImageDecoder.decode(data: try PNGWriter.encode(image), name: "figure.png")
            XCTAssertEqual([back.width, back.height], [image.width, image.height])
            XCTAssertEqual(back.pixels, image.pixels, "the PNG holds the figure exactly")
        }
        XCTAssertGreaterThan(cm.width, 4 * 44)
    }

    private func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * image.width + x) * 3
        return Array(image.pixels[i..<i + 3])
    }

    /// Each cell of the confusion-matrix figure is shaded by its share of the row: blue on the diagonal, red off
    /// it, light grey when empty, and darker for a larger share.
    func testConfusionMatrixFigureShadesEachCellByItsRowShare() {
        let r = report()
        let image = EvaluationFigures.confusionMatrix(r)
        let cell = 44, top = 70
        let left = (r.classes.map { Canvas.textWidth($0) }.max() ?? 0) + 16
        var darkest: (share: Double, level: Int)?
        for i in r.classes.indices {
            let rowTotal = r.confusionMatrix[i].reduce(0, +)
            for j in r.classes.indices {
                let v = r.confusionMatrix[i][j]
                let p = pixel(image, left + j * cell + 3, top + i * cell + 3)   // a corner, clear of the count
                if v == 0 {
                    XCTAssertEqual(p, [246, 246, 246], "empty cell \(i),\(j)")
                    continue
                }
                if i == j { XCTAssertGreaterThan(p[2], p[0], "diagonal \(i) is blue") }
                else { XCTAssertGreaterThan(p[0], p[2], "error cell \(i),\(j) is red") }
                let share = Double(v) / Double(rowTotal)
                let level = Int(p[0]) + Int(p[1]) + Int(p[2])
                if let d = darkest, share > d.share + 0.2 { XCTAssertLessThan(level, d.level, "a larger share is darker") }
                if darkest == nil || share < darkest!.share { darkest = (share, level) }
            }
        }
        XCTAssertNotNil(darkest, "the report has counted cells")
    }

    /// The reliability diagram draws each bin's accuracy as a bar from the axis, its mean confidence as a red
    /// tick, and the diagonal of perfect calibration.
    func testReliabilityDiagramDrawsBarsTicksAndTheDiagonal() {
        let r = report()
        let image = EvaluationFigures.reliabilityDiagram(r)
        let plot = 360, left = 60, top = 60
        XCTAssertEqual(pixel(image, left + 150, top + plot - 151), [60, 60, 60], "the diagonal")
        var bars = 0
        for bin in r.reliability {
            guard let acc = bin.accuracy, acc * Double(plot) > 6 else { continue }
            let x0 = left + Int(bin.lower * Double(plot)) + 1
            let x = x0 + 2
            let inside = pixel(image, x, top + plot - 3)
            XCTAssertGreaterThan(inside[2], inside[0], "bin \(bin.lower): a blue bar at the bottom")
            let above = pixel(image, x, top + plot - Int(acc * Double(plot)) - 4)
            XCTAssertNotEqual(above, inside, "bin \(bin.lower): the bar stops at its accuracy")
            if let conf = bin.confidence {
                let tick = pixel(image, x, top + plot - Int(conf * Double(plot)))
                XCTAssertEqual(tick, [178, 24, 43], "bin \(bin.lower): the red confidence tick")
            }
            bars += 1
        }
        XCTAssertGreaterThan(bars, 0)
    }

    func testCaseTableNeutralisesFormulas() {
        let r = report()
        let cases = [EvaluatedCase(relativePath: "=HYPERLINK(\"x\").jpg", truth: 0, logits: [3, 0, 0, 0]),
                     EvaluatedCase(relativePath: "b.jpg", truth: nil, logits: [0, 0, 0, 3], seen: true)]
        let table = EvaluationCaseTable.render(cases: cases, classes: r.classes, temperature: 2)
        let lines = table.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix("path,truth,predicted,confidence,correct,held_out,cam_x,cam_y,box_x0,box_y0,box_x1,box_y1,box_score,p_Comminuted"))
        XCTAssertTrue(lines[1].hasPrefix("\"'=HYPERLINK(\"\"x\"\").jpg\",Comminuted,Comminuted,"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("b.jpg,unlabelled,'=cmd,"), "a class name that looks like a formula is neutralised")
        XCTAssertTrue(lines[2].contains(",,no,,,"), "a case seen in training is marked: \(lines[2])")
    }
}
