import Basics
import Foundation
@testable import Imaging
@testable import Inference
@testable import Model
@testable import Store
import XCTest

/// The runner as production runs it: a real fold ensemble (the committed two-member fixture, loaded as a weights
/// folder), the real decoder and input pipeline, bundled sample X-rays. Its results equal PyTorch's held-out means
/// for those X-rays (scripts/fixtures/make_ensemble_fixture.py), equal the same ensemble run by hand, are cached,
/// and come back bit for bit from the cache.
final class InferenceRealModelTests: XCTestCase {
    private typealias Expected = EnsembleFixtureExpected

    func testRunnerMatchesPyTorchAndADirectRunAndCachesIt() throws {
        let reference = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath:
            RunnerFixtures.ensemblePath + "/expected.json")))
        let relatives = reference.images.keys.sorted()
        XCTAssertEqual(relatives.count, 4)
        let paths = relatives.map { RepoPaths.root.appendingPathComponent($0).path }
        let dir = try makeStoreTempDir(self)
        let corrupt = dir + "/truncated.jpg"
        try Data(contentsOf: URL(fileURLWithPath: paths[0])).prefix(600).write(to: URL(fileURLWithPath: corrupt))

        let classifier = try RunnerFixtures.ensemble()
        XCTAssertEqual(classifier.ensemble.members.count, 2, "a real ensemble, not one model")
        let dbPath = dir + "/review.sqlite"
        let runner = InferenceRunner(imagePaths: paths + [corrupt], classifier: classifier, cache: try SQLitePredictionCache(path: dbPath))
        XCTAssertEqual(runner.spec.weightsID, classifier.inferenceSpec.weightsID)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 300))

        guard case .failed(let message) = runner.state(at: 4) else { return XCTFail("a truncated JPEG must fail") }
        XCTAssertFalse(message.isEmpty)
        XCTAssertFalse(message.contains("\n"), message)

        // The same computation by hand, on a separate ensemble (the runner's belongs to its thread).
        let direct = try RunnerFixtures.ensemble()
        for (i, path) in paths.enumerated() {
            let want = try XCTUnwrap(reference.images[relatives[i]])
            let result = try XCTUnwrap(runner.state(at: i).prediction, "case \(i): \(runner.state(at: i))")
            XCTAssertEqual(result.membership.used, want.members, relatives[i])
            XCTAssertEqual(result.membership.seenInTraining, want.seen_in_training, relatives[i])
            XCTAssertEqual(result.probabilities.count, want.probabilities.count)
            for (p, q) in zip(result.probabilities, want.probabilities) {
                XCTAssertEqual(Double(p), q, accuracy: reference.tolerance, "\(relatives[i]) against PyTorch")
            }
            for (p, q) in zip(result.attention.values, want.attention) { XCTAssertEqual(Double(p), q, accuracy: 2e-3, relatives[i]) }
            let cam = try XCTUnwrap(result.gradcam)
            XCTAssertEqual(cam.values.count, want.gradcam.count)
            for (p, q) in zip(cam.values, want.gradcam) { XCTAssertEqual(Double(p), q, accuracy: 5e-3, relatives[i]) }
            XCTAssertTrue(cam.values.allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertEqual(result.maps.count, CAMMethod.all.count)

            let expected = try RunnerFixtures.direct(direct, path)
            XCTAssertEqual(result.membership, expected.membership)
            for (a, b) in zip(result.probabilities, expected.probabilities) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            XCTAssertEqual(result.predicted, expected.predicted)
            for (a, b) in zip(result.attention.values, expected.attention.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            for (method, map) in result.maps {
                let other = try XCTUnwrap(expected.maps[method], method)
                XCTAssertEqual(map.values.count, other.values.count, method)
                for (a, b) in zip(map.values, other.values) { XCTAssertEqual(a, b, accuracy: 1e-4, method) }
            }
        }

        // Reopening: every decodable case comes from the cache, identical, and the model is never run.
        let second = InferenceRunner(imagePaths: paths, classifier: try RunnerFixtures.ensemble(), cache: try SQLitePredictionCache(path: dbPath))
        second.prioritize(index: 2)
        second.start()
        XCTAssertTrue(second.waitUntilFinished(timeout: 60))
        XCTAssertEqual(runner.images.decodeCount, 5, "the first pass decodes each case once")
        XCTAssertEqual(second.images.decodeCount, 0, "the second is served from the cache without decoding")
        for i in paths.indices {
            let cached = try XCTUnwrap(second.state(at: i).prediction)
            let fresh = try XCTUnwrap(runner.state(at: i).prediction)
            XCTAssertEqual(cached.probabilities, fresh.probabilities)
            XCTAssertEqual(cached.attention, fresh.attention)
            XCTAssertEqual(cached.gradcam, fresh.gradcam)
            XCTAssertEqual(cached.maps, fresh.maps)
        }
    }
}
