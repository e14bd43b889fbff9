import Basics
import Foundation
import Imaging
import Inference
@testable import Metrics
import Model
import XCTest

/// The CAM methods on the user's paths: `predict --maps --method`, `gradcam --method`, `evaluate --cam-methods`,
/// the deletion score, and the prediction cache carrying every method's map.
final class CAMMethodTests: XCTestCase {
    /// A model that sees only the top-left quarter of a 8×8 input: its class-0 probability falls as that quarter is
    /// removed (set to 0), and nothing else matters.
    final class QuarterModel: CaseClassifier, @unchecked Sendable {
        let inferenceSpec = InferenceSpec(width: 8, height: 8, mean: [0, 0, 0], std: [1, 1, 1], weightsID: "quarter")
        func run(input: [Float], maps: CAMRequest) -> Prediction {
            var s: Float = 0
            for y in 0..<4 { for x in 0..<4 { s += input[y * 8 + x] } }
            let p0 = 0.5 + 0.45 * s / 16
            return Prediction(probabilities: [p0, 1 - p0], attention: FeatureMap(width: 1, height: 1, values: [1]), gradcam: nil)
        }
    }

    func testDeletionRewardsAMapThatPointsAtWhatTheModelUses() {
        let model = QuarterModel()
        let input = [Float](repeating: 1, count: 3 * 64)
        var prediction = model.run(input: input, maps: .none)
        prediction.maps[CAMMethod.gradCAM.id] = FeatureMap(width: 2, height: 2, values: [1, 0, 0, 0])   // the used quarter
        prediction.maps[CAMMethod.eigenCAM.id] = FeatureMap(width: 2, height: 2, values: [0, 0, 0, 1])  // the opposite one
        let scores = DeletionFaithfulness.scores(model, input: input, width: 8, height: 8, prediction: prediction,
                                                 methods: [.gradCAM, .eigenCAM], seed: 7)
        XCTAssertGreaterThan(scores["gradcam"] ?? 0, 0.02, "removing the used pixels first beats random removal")
        XCTAssertLessThan(scores["eigencam"] ?? 1, 0, "removing unused pixels first does worse than random")
        XCTAssertNil(scores["hirescam"], "only the asked methods")
    }

    /// A forward makes the maps it is asked for, and they are the same maps whatever else was asked with them.
    func testTheRequestedMethodsAreTheMapsMade() throws {
        let model = try FractureClassifier(contentsOf: RepoPaths.tinyWeights)
        let size = model.info.inputSize
        let input = (0..<(3 * size[0] * size[1])).map { Float(($0 * 37) % 101) / 50 - 1 }
        let everything = model.run(input: input, maps: .all)
        XCTAssertEqual(Set(everything.maps.keys), Set(CAMMethod.all.map(\.id)))
        XCTAssertTrue(model.run(input: input, maps: .none).maps.isEmpty)
        let two = model.run(input: input, maps: CAMRequest([.eigenCAM, .hiResCAM, .hiResCAM]))
        XCTAssertEqual(Set(two.maps.keys), ["hirescam", "eigencam"])
        XCTAssertEqual(CAMRequest([.eigenCAM, .hiResCAM, .hiResCAM]).methods, [.hiResCAM, .eigenCAM], "registry order, no repeats")
        XCTAssertEqual(two.map(.hiResCAM), everything.map(.hiResCAM))
        XCTAssertEqual(two.map(.eigenCAM), everything.map(.eigenCAM))
        XCTAssertEqual(two.probabilities, everything.probabilities)
    }

    func testGroupBootstrapOfAMean() throws {
        let values = [1.0, 1, 1, 0, 0, 0]
        let ci = try XCTUnwrap(Bootstrap.meanInterval(values, groups: [0, 0, 0, 1, 1, 1], resamples: 500, seed: 1))
        // Two groups, one all ones, one all zeros: resampled means are 0, 0.5 or 1.
        XCTAssertEqual(ci.low, 0, accuracy: 1e-9)
        XCTAssertEqual(ci.high, 1, accuracy: 1e-9)
        let single = try XCTUnwrap(Bootstrap.meanInterval(values, resamples: 500, seed: 1))
        XCTAssertGreaterThan(single.low, 0, "image bootstrap over 6 cases is narrower")
        XCTAssertNil(Bootstrap.meanInterval([], resamples: 10))
    }

    func testPredictMapsNamesTheChosenMethod() throws {
        let weights = RepoPaths.tinyWeights
        let image = RepoPaths.root.appendingPathComponent("samples/hbfmid-test/test/images").path
        let first = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: image).sorted().first)
        let result = try Fracview.run(["predict", "--weights", weights, "--json", "--maps", "--method", "hirescam", image + "/" + first])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(json["cam_method"] as? String, "hirescam")
        let cam = try XCTUnwrap(json["cam"] as? [[Double]]), gradcam = try XCTUnwrap(json["gradcam"] as? [[Double]])
        XCTAssertEqual(cam.count, gradcam.count)
        XCTAssertEqual(cam.flatMap { $0 }.max() ?? 0, 1, accuracy: 1e-3, "scaled to its maximum")
        let bad = try Fracview.run(["gradcam", "--weights", weights, "--method", "scorecam", image + "/" + first, "-o", "/tmp/x.png"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown CAM method 'scorecam'") && bad.stderr.contains("eigencam"), bad.stderr)
        let t = TempDir()
        let figure = try Fracview.run(["gradcam", "--weights", weights, "--method", "layercam", image + "/" + first, "-o", t.path + "/f.png"])
        XCTAssertEqual(figure.status, 0, figure.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/f.png"))
    }

    func testEvaluateComparesEveryMethodOnTheHeldOutCases() throws {
        let result = try Fracview.run(["evaluate", RepoPaths.sample, "--weights", RepoPaths.tinyWeights, "--json",
                                       "--cam-methods", "all"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let methods = try XCTUnwrap(json["cam_methods"] as? [[String: Any]])
        XCTAssertEqual(methods.compactMap { $0["method"] as? String }, CAMMethod.all.map(\.id))
        for m in methods {
            XCTAssertEqual(m["n"] as? Int, json["n"] as? Int, "every scored case")
            let game = try XCTUnwrap(m["pointing_game"] as? Double)
            let ci = try XCTUnwrap(m["pointing_game_ci95"] as? [String: Double])
            XCTAssertLessThanOrEqual(ci["low"] ?? 2, game); XCTAssertGreaterThanOrEqual(ci["high"] ?? -1, game)
            XCTAssertNotNil(m["deletion"] as? Double)
        }
        let plain = try Fracview.run(["evaluate", RepoPaths.sample, "--weights", RepoPaths.tinyWeights, "--json"])
        let none = try XCTUnwrap(JSONSerialization.jsonObject(with: plain.stdout) as? [String: Any])
        XCTAssertEqual((none["cam_methods"] as? [Any])?.count, 0, "compared only when asked")
    }
}
