import Foundation
@testable import Imaging
@testable import Inference
@testable import Model
@testable import Store
import XCTest

/// The runner with the real engine (tiny fixture weights) and the real decoder on bundled sample images:
/// its results equal a direct forward pass, are cached, and come back bit for bit from the cache.
final class InferenceRealModelTests: XCTestCase {
    private let weights = RepoPaths.tinyWeights
    private let images = RepoPaths.sample + "/test/images"

    private func sampleImages(_ n: Int) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.hasSuffix(".jpg") }.sorted()
        return names.prefix(n).map { images + "/" + $0 }
    }

    func testRunnerMatchesADirectForwardPassAndCachesIt() throws {
        let dir = try makeStoreTempDir(self)
        let paths = try sampleImages(3)
        XCTAssertEqual(paths.count, 3)
        let corrupt = dir + "/truncated.jpg"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: paths[0]))
        try bytes.prefix(600).write(to: URL(fileURLWithPath: corrupt))

        let classifier = try FractureClassifier(contentsOf: weights)
        let dbPath = dir + "/review.sqlite"
        let runner = InferenceRunner(imagePaths: paths + [corrupt], classifier: classifier,
                                     store: try ReviewStore(path: dbPath))
        XCTAssertEqual(runner.spec.weightsID, classifier.info.weightsID)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 300))

        guard case .failed(let message) = runner.state(at: 3) else { return XCTFail("a truncated JPEG must fail") }
        XCTAssertFalse(message.isEmpty)
        XCTAssertFalse(message.contains("\n"), message)

        // The same computation by hand, on a separate instance (the runner's belongs to its thread).
        let direct = try FractureClassifier(contentsOf: weights)
        let spec = direct.inferenceSpec
        for (i, path) in paths.enumerated() {
            let result = try XCTUnwrap(runner.state(at: i).prediction, "case \(i): \(runner.state(at: i))")
            let input = ModelInput.tensor(from: try ImageDecoder.decode(path: path), width: spec.width,
                                          height: spec.height, mean: spec.mean, std: spec.std)
            let expected = direct.run(input: input, gradcam: true)
            XCTAssertEqual(result.probabilities.count, classifier.info.classes.count)
            XCTAssertEqual(result.probabilities.reduce(0, +), 1, accuracy: 1e-4)
            for (a, b) in zip(result.probabilities, expected.probabilities) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            XCTAssertEqual(result.predicted, expected.predicted)
            XCTAssertEqual(result.attention.width, expected.attention.width)
            for (a, b) in zip(result.attention.values, expected.attention.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            let cam = try XCTUnwrap(result.gradcam)
            let expectedCAM = try XCTUnwrap(expected.gradcam)
            XCTAssertEqual(cam.width * cam.height, expectedCAM.values.count)
            for (a, b) in zip(cam.values, expectedCAM.values) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            XCTAssertTrue(cam.values.allSatisfy { $0 >= 0 && $0 <= 1 })
        }

        // Reopening: every decodable case comes from the cache, identical, and the model is never run.
        let second = InferenceRunner(imagePaths: paths, classifier: try FractureClassifier(contentsOf: weights),
                                     store: try ReviewStore(path: dbPath))
        second.prioritize(index: 2)
        second.start()
        XCTAssertTrue(second.waitUntilFinished(timeout: 60))
        XCTAssertEqual(runner.images.decodeCount, 4, "the first pass decodes each case once")
        XCTAssertEqual(second.images.decodeCount, 0, "the second is served from the cache without decoding")
        for i in paths.indices {
            let cached = try XCTUnwrap(second.state(at: i).prediction)
            let fresh = try XCTUnwrap(runner.state(at: i).prediction)
            XCTAssertEqual(cached.probabilities, fresh.probabilities)
            XCTAssertEqual(cached.attention, fresh.attention)
            XCTAssertEqual(cached.gradcam, fresh.gradcam)
        }
    }
}
