@testable import Engine
import Foundation
@testable import Metrics
import XCTest

/// Each metric against Tests/Fixtures/review/metrics_fixture.json, made by make_metrics_fixture.py (numpy/scipy).
final class MetricsTests: XCTestCase {
    struct Fixture: Decodable {
        struct Boot: Decodable { let seed: UInt64; let resamples: Int; let first_draws: [String]; let accuracy: [Double]; let macro_f1: [Double] }
        struct Bin: Decodable { let count: Int; let accuracy: Double?; let confidence: Double? }
        let classes: [String]; let truth: [Int]; let logits: [[Double]]; let predicted: [Int]
        let confusion_matrix: [[Int]]; let precision: [Double?]; let recall: [Double?]; let f1: [Double?]; let support: [Int]
        let accuracy: Double; let macro: [String: Double]; let weighted: [String: Double]; let errors: Int
        let top2_accuracy: Double; let critical: [String: Int]; let bootstrap: Boot
        let ece15: Double; let bins15: [Bin]; let temperature: Double; let nll_at_1: Double; let nll_at_T: Double
        let errors_by_confidence: [Int]
    }

    static let fixture: Fixture = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: RepoPaths.fixtures + "/metrics_fixture.json"))
        return try! JSONDecoder().decode(Fixture.self, from: data)
    }()
    var f: Fixture { Self.fixture }
    var probabilities: [[Double]] { f.logits.map { Softmax.probabilities($0) } }
    var matrix: ConfusionMatrix { ConfusionMatrix(truth: f.truth, predicted: f.predicted, classCount: 10) }

    func testPredictionsAndConfusionMatrix() {
        XCTAssertEqual(probabilities.map { TopKAccuracy.topK($0, k: 1)[0] }, f.predicted)
        XCTAssertEqual(matrix.counts, f.confusion_matrix)
        XCTAssertEqual(matrix.errors, f.errors)
        XCTAssertEqual(matrix.accuracy!, f.accuracy, accuracy: 1e-12)
    }

    func testPerClassAndAverages() {
        let m = ClassificationMetrics(matrix: matrix, classNames: f.classes)
        for c in 0..<10 {
            XCTAssertEqual(m.classes[c].support, f.support[c])
            assertEqual(m.classes[c].precision, f.precision[c], "precision \(c)")
            assertEqual(m.classes[c].recall, f.recall[c], "recall \(c)")
            assertEqual(m.classes[c].f1, f.f1[c], "f1 \(c)")
        }
        XCTAssertNil(m.classes[3].recall, "Linear has no support: recall is undefined, not 0")
        XCTAssertEqual(m.macroPrecision!, f.macro["precision"]!, accuracy: 1e-12)
        XCTAssertEqual(m.macroRecall!, f.macro["recall"]!, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1!, f.macro["f1"]!, accuracy: 1e-12)
        XCTAssertEqual(m.weightedPrecision!, f.weighted["precision"]!, accuracy: 1e-12)
        XCTAssertEqual(m.weightedRecall!, f.weighted["recall"]!, accuracy: 1e-12)
        XCTAssertEqual(m.weightedF1!, f.weighted["f1"]!, accuracy: 1e-12)
    }

    func testClassWithNeitherCasesNorPredictionsIsNotScored() {
        let m = ClassificationMetrics(matrix: ConfusionMatrix(truth: [0, 1, 1], predicted: [0, 1, 0], classCount: 3),
                                      classNames: ["a", "b", "c"])
        XCTAssertEqual(m.classes[2].support, 0)
        XCTAssertNil(m.classes[2].precision); XCTAssertNil(m.classes[2].recall); XCTAssertNil(m.classes[2].f1)
        // Macro over a and b only: F1(a) = 2/3, F1(b) = 2/3.
        XCTAssertEqual(m.macroF1!, 2.0 / 3, accuracy: 1e-12)
    }

    func testCriticalErrorsByName() {
        let pairs = CriticalErrorPair.count(in: matrix, classNames: f.classes)
        XCTAssertEqual(pairs.map(\.count), [f.critical["Comminuted->Transverse Displaced"], f.critical["Transverse Displaced->Healthy"]])
        XCTAssertGreaterThan(pairs[0].count!, 0)
        // Another class order: found by name, not by index.
        let reversed = Array(f.classes.reversed())
        let perm = ConfusionMatrix(truth: f.truth.map { 9 - $0 }, predicted: f.predicted.map { 9 - $0 }, classCount: 10)
        XCTAssertEqual(CriticalErrorPair.count(in: perm, classNames: reversed), pairs)
        XCTAssertNil(CriticalErrorPair.count(in: matrix, classNames: ["x"]).first?.count)
    }

    func testTop2() {
        XCTAssertEqual(TopKAccuracy.accuracy(probabilities: probabilities, truth: f.truth, k: 2)!, f.top2_accuracy, accuracy: 1e-12)
    }

    func testBootstrapMatchesPythonTwin() {
        var rng = SplitMix64(seed: f.bootstrap.seed)
        XCTAssertEqual((0..<3).map { _ in String(rng.next()) }, f.bootstrap.first_draws)
        let ci = Bootstrap.intervals(truth: f.truth, predicted: f.predicted, classCount: 10,
                                     resamples: f.bootstrap.resamples, seed: f.bootstrap.seed)!
        XCTAssertEqual(ci.accuracy.low, f.bootstrap.accuracy[0], accuracy: 1e-12)
        XCTAssertEqual(ci.accuracy.high, f.bootstrap.accuracy[1], accuracy: 1e-12)
        XCTAssertEqual(ci.macroF1.low, f.bootstrap.macro_f1[0], accuracy: 1e-12)
        XCTAssertEqual(ci.macroF1.high, f.bootstrap.macro_f1[1], accuracy: 1e-12)
        XCTAssertLessThan(ci.accuracy.low, f.accuracy); XCTAssertGreaterThan(ci.accuracy.high, f.accuracy)
    }

    func testPercentileIsNumpyLinear() {
        XCTAssertEqual(Bootstrap.percentile([1, 2, 3, 4], 50), 2.5)
        XCTAssertEqual(Bootstrap.percentile([10, 0, 5], 97.5), 9.75, accuracy: 1e-12)
    }

    func testECEAndReliabilityBins() {
        let cal = Calibration(probabilities: probabilities, truth: f.truth)
        XCTAssertEqual(cal.ece!, f.ece15, accuracy: 1e-12)
        XCTAssertEqual(cal.bins.count, 15)
        for (bin, ref) in zip(cal.bins, f.bins15) {
            XCTAssertEqual(bin.count, ref.count)
            assertEqual(bin.accuracy, ref.accuracy, "bin accuracy")
            assertEqual(bin.confidence, ref.confidence, "bin confidence")
        }
    }

    func testTemperatureMinimisesNLL() {
        XCTAssertEqual(TemperatureScaling.nll(logits: f.logits, truth: f.truth, temperature: 1), f.nll_at_1, accuracy: 1e-10)
        let t = TemperatureScaling.fit(logits: f.logits, truth: f.truth)!
        XCTAssertEqual(t, f.temperature, accuracy: 1e-4)
        XCTAssertEqual(TemperatureScaling.nll(logits: f.logits, truth: f.truth, temperature: t), f.nll_at_T, accuracy: 1e-9)
        XCTAssertGreaterThan(t, 1, "the fixture's logits are overconfident")
    }

    func testErrorsSortedByConfidence() {
        let ranked = ErrorRanking.rank(probabilities: probabilities, truth: f.truth)
        XCTAssertEqual(ranked.map(\.index), f.errors_by_confidence)
        XCTAssertEqual(ranked.count, f.errors)
    }

    func testEvaluationReportCarriesTheKeys() throws {
        let cases = zip(f.truth, f.logits).enumerated().map { i, pair in
            EvaluatedCase(relativePath: "test/images/\(i).jpg", truth: pair.0, logits: pair.1)
        } + [EvaluatedCase(relativePath: "test/images/unlabelled.jpg", truth: nil, logits: f.logits[0])]
        let report = EvaluationReport(cases: cases, classes: f.classes, validation: cases, resamples: 50)
        XCTAssertEqual(report.n, f.truth.count)
        XCTAssertEqual(report.unlabelled, ["test/images/unlabelled.jpg"])
        XCTAssertEqual(report.temperature!, f.temperature, accuracy: 1e-4)
        XCTAssertLessThan(report.nllAfterTemperature!, report.nll!)
        let json = try JSONSerialization.jsonObject(with: try report.json()) as! [String: Any]
        for key in ["classes", "accuracy", "macro_f1", "confusion_matrix", "critical_errors", "ece", "n",
                    "per_class", "top2_accuracy", "accuracy_ci95", "macro_f1_ci95", "temperature", "errors_by_confidence"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertEqual(json["confusion_matrix"] as? [[Int]], f.confusion_matrix)
        let perClass = json["per_class"] as! [[String: Any]]
        XCTAssertTrue(perClass[3]["recall"] is NSNull, "no support is an explicit null")
        let noValid = EvaluationReport(cases: cases, classes: f.classes, validation: nil, resamples: 10)
        XCTAssertNil(noValid.temperature)
        XCTAssertTrue(noValid.temperatureNote.contains("no valid split"))
    }

    private func assertEqual(_ a: Double?, _ b: Double?, _ message: String, line: UInt = #line) {
        switch (a, b) {
        case (nil, nil): break
        case let (x?, y?): XCTAssertEqual(x, y, accuracy: 1e-12, message, line: line)
        default: XCTFail("\(message): \(String(describing: a)) vs \(String(describing: b))", line: line)
        }
    }
}
