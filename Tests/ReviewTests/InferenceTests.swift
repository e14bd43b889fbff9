import Basics
import Datasets
import Foundation
@testable import Imaging
@testable import Inference
@testable import Model
@testable import Store
import XCTest

/// What the runner tests run on: the path production runs. Real X-rays (the bundled sample JPEGs), the runner's own
/// decoder and input pipeline (`InferenceRunner.imagingLoader`), and a real fold ensemble (the committed
/// two-member fixture of Tests/Fixtures/review/ensemble, an EfficientNet-B0 and a Lite0 with their training
/// signatures, as `ModelEnsemble` loads a weights folder).
enum RunnerFixtures {
    static let ensemblePath = RepoPaths.fixtures + "/ensemble"
    static let sampleImages = RepoPaths.sample + "/test/images"

    static func ensemble() throws -> EnsembleClassifier { EnsembleClassifier(try ModelEnsemble(path: ensemblePath)) }

    /// The bundled sample X-rays (64 distinct JPEGs), sorted by name.
    static func samples() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: sampleImages).filter { $0.hasSuffix(".jpg") }.sorted()
        return names.map { sampleImages + "/" + $0 }
    }

    /// What the runner should give a case: the same ensemble run by hand on the decoded file.
    static func direct(_ classifier: EnsembleClassifier, _ path: String) throws -> Prediction {
        classifier.runHeldOut(PreparedInput(image: try ImageDecoder.decode(path: path), spec: classifier.inferenceSpec), maps: .all)
    }
}

/// The order the runner finished cases in: `onUpdate` is called on the runner's thread after each case, in order.
final class CaseOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int] = []
    /// Called with each index before it is recorded, on the runner's thread (a test can hold the runner there).
    var onCase: ((Int) -> Void)?
    func record(_ index: Int) {
        onCase?(index)
        lock.lock(); seen.append(index); lock.unlock()
    }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return seen }
}

final class InferenceTests: XCTestCase {
    /// `count` distinct sample X-rays copied to img000.jpg… in a scratch folder (tests rename and edit them), then
    /// `extra` files with the given contents (deliberately bad ones).
    private func makeImages(_ count: Int, extra: [(name: String, bytes: Data)] = []) throws -> (dir: String, paths: [String]) {
        let dir = try makeStoreTempDir(self)
        let samples = try RunnerFixtures.samples()
        XCTAssertGreaterThanOrEqual(samples.count, count, "the bundled sample has enough X-rays")
        var paths = try samples.prefix(count).enumerated().map { i, sample -> String in
            let path = dir + String(format: "/img%03d.jpg", i)
            try FileManager.default.copyItem(atPath: sample, toPath: path)
            return path
        }
        for (name, bytes) in extra {
            try bytes.write(to: URL(fileURLWithPath: dir + "/" + name))
            paths.append(dir + "/" + name)
        }
        return (dir, paths)
    }

    private func assertSame(_ a: Prediction, _ b: Prediction, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.probabilities.count, b.probabilities.count, what, file: file, line: line)
        for (p, q) in zip(a.probabilities, b.probabilities) { XCTAssertEqual(p, q, accuracy: 1e-5, what, file: file, line: line) }
        XCTAssertEqual(a.predicted, b.predicted, what, file: file, line: line)
        XCTAssertEqual(a.membership, b.membership, what, file: file, line: line)
        XCTAssertEqual(a.attention.values.count, b.attention.values.count, what, file: file, line: line)
        for (p, q) in zip(a.attention.values, b.attention.values) { XCTAssertEqual(p, q, accuracy: 1e-5, what, file: file, line: line) }
        XCTAssertEqual(Set(a.maps.keys), Set(b.maps.keys), what, file: file, line: line)
    }

    /// The cache key is the SHA-256 of the file's bytes (the digest of the committed sample, from sha256sum).
    func testCacheKeyIsTheSHA256OfTheFileBytes() throws {
        let (dir, paths) = try makeImages(1)
        XCTAssertTrue(paths[0].hasSuffix("img000.jpg"))
        let classifier = try RunnerFixtures.ensemble()
        let store = try ReviewStore(path: dir + "/review.sqlite")
        let runner = InferenceRunner(imagePaths: paths, classifier: classifier, cache: store.predictionCache)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 120))
        XCTAssertNotNil(runner.state(at: 0).prediction)
        // 101_jpg.rf.92e32f9dfb9b34f9a123b16629cc368d.jpg, the first sample by name.
        XCTAssertNotNil(try store.predictionCache.cachedPrediction(imageHash: "23df4908f0e29a3ee9250697ea9bf6a7259749df78e96bfadc9b8f6dfc2aae40",
                                                   weightsID: classifier.inferenceSpec.weightsID))
    }

    func testComputesEveryCaseAndFillsTheCache() throws {
        let (dir, paths) = try makeImages(4, extra: [("corrupt.jpg", Data("not an image".utf8))])
        let store = try ReviewStore(path: dir + "/review.sqlite")
        let classifier = try RunnerFixtures.ensemble()
        let order = CaseOrder()
        let runner = InferenceRunner(imagePaths: paths, classifier: classifier, cache: store.predictionCache, onUpdate: { order.record($0) })
        XCTAssertEqual(runner.spec.weightsID, classifier.inferenceSpec.weightsID)
        XCTAssertEqual(runner.progress.done, 0)
        XCTAssertEqual(runner.state(at: 0), .pending)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 120))
        XCTAssertEqual(runner.progress.done, 5)
        XCTAssertEqual(runner.progress.total, 5)
        XCTAssertEqual(runner.generation, 5)
        XCTAssertEqual(order.all, [0, 1, 2, 3, 4], "in order, each once")
        XCTAssertEqual(runner.images.decodeCount, 5, "each case decoded once")
        XCTAssertNil(runner.storeError)

        guard case .failed(let message) = runner.state(at: 4) else { return XCTFail("a file that is not an image must fail") }
        XCTAssertTrue(message.contains("not a JPEG, PNG or DICOM file"), message)
        XCTAssertFalse(message.contains("\n"))

        let direct = try RunnerFixtures.ensemble()
        var predicted = Set<[Float]>()
        for i in 0..<4 {
            let result = try XCTUnwrap(runner.state(at: i).prediction, "case \(i): \(runner.state(at: i))")
            assertSame(result, try RunnerFixtures.direct(direct, paths[i]), "case \(i)")
            XCTAssertEqual(result.probabilities.reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertEqual(result.maps.count, CAMMethod.all.count, "every CAM method's map")
            predicted.insert(result.probabilities)

            let hash = ContentDigest.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: paths[i])))
            let cached = try XCTUnwrap(try store.predictionCache.cachedPrediction(imageHash: hash, weightsID: classifier.inferenceSpec.weightsID))
            XCTAssertEqual(cached.probabilities, result.probabilities)
            XCTAssertEqual(cached.attention, result.attention)
            XCTAssertEqual(cached.gradcam, result.gradcam)
            XCTAssertEqual(cached.maps, result.maps, "every CAM method's map comes back from the cache")
        }
        XCTAssertEqual(predicted.count, 4, "four X-rays, four different outputs")
    }

    /// Issue #23: the runner reads through the guarded loader. A case that names a FIFO, a directory or a missing
    /// file fails with its reason at once (a case list that is not a folder listing may name anything), never
    /// blocks the runner.
    func testTheRunnerReadsOnlyRegularFiles() throws {
        let (dir, paths) = try makeImages(1)
        XCTAssertEqual(mkfifo(dir + "/pipe.jpg", 0o644), 0)
        try FileManager.default.createDirectory(atPath: dir + "/folder.jpg", withIntermediateDirectories: false)
        let runner = InferenceRunner(imagePaths: paths + [dir + "/pipe.jpg", dir + "/folder.jpg", dir + "/gone.jpg"],
                                     classifier: try RunnerFixtures.ensemble(), cache: nil)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 120), "a FIFO must not block the runner")
        XCTAssertNotNil(runner.state(at: 0).prediction)
        for (i, reason) in [(1, "not a regular file"), (2, "is a directory"), (3, "file not found")] {
            guard case .failed(let message) = runner.state(at: i) else { return XCTFail("case \(i) must fail") }
            XCTAssertTrue(message.contains(reason), message)
        }
        XCTAssertThrowsError(try SplitManifest.read(path: dir + "/pipe.jpg")) { XCTAssertTrue("\($0)".contains("cannot read manifest")) }
    }

    func testReopeningIsServedFromTheCache() throws {
        let (dir, paths) = try makeImages(3)
        let dbPath = dir + "/review.sqlite"
        let first = InferenceRunner(imagePaths: paths, classifier: try RunnerFixtures.ensemble(), cache: try SQLitePredictionCache(path: dbPath))
        first.start()
        XCTAssertTrue(first.waitUntilFinished(timeout: 120))
        XCTAssertEqual(first.images.decodeCount, 3)

        // Same content under a new name hits too: the key is the bytes' hash.
        try FileManager.default.moveItem(atPath: paths[2], toPath: dir + "/renamed.jpg")
        let order = CaseOrder()
        let second = InferenceRunner(imagePaths: [paths[0], paths[1], dir + "/renamed.jpg"], classifier: try RunnerFixtures.ensemble(),
                                     cache: try SQLitePredictionCache(path: dbPath), onUpdate: { order.record($0) })
        second.start()
        XCTAssertTrue(second.waitUntilFinished(timeout: 120))
        XCTAssertEqual(second.images.decodeCount, 0, "a cached case is not even decoded, so the model never runs")
        XCTAssertEqual(Set(order.all), [0, 1, 2])
        for i in 0..<3 {
            let fresh = try XCTUnwrap(first.state(at: i).prediction)
            let cached = try XCTUnwrap(second.state(at: i).prediction)
            XCTAssertEqual(cached.probabilities, fresh.probabilities)
            XCTAssertEqual(cached.attention, fresh.attention)
            XCTAssertEqual(cached.gradcam, fresh.gradcam)
            XCTAssertEqual(cached.maps, fresh.maps)
        }

        // An edited image misses: case 0 now holds another X-ray, computed afresh.
        let other = try RunnerFixtures.samples()[10]
        try Data(contentsOf: URL(fileURLWithPath: other)).write(to: URL(fileURLWithPath: paths[0]))
        let third = InferenceRunner(imagePaths: [paths[0]], classifier: try RunnerFixtures.ensemble(), cache: try SQLitePredictionCache(path: dbPath))
        third.start()
        XCTAssertTrue(third.waitUntilFinished(timeout: 120))
        XCTAssertEqual(third.images.decodeCount, 1, "recomputed")
        let edited = try XCTUnwrap(third.state(at: 0).prediction)
        assertSame(edited, try RunnerFixtures.direct(try RunnerFixtures.ensemble(), other), "edited case")
        XCTAssertNotEqual(edited.probabilities, try XCTUnwrap(first.state(at: 0).prediction).probabilities)
    }

    func testPrioritizeComputesTheCurrentCaseAndNeighboursFirst() throws {
        let (_, paths) = try makeImages(12)
        let order = CaseOrder()
        let runner = InferenceRunner(imagePaths: paths, classifier: try RunnerFixtures.ensemble(), cache: nil,
                                     onUpdate: { order.record($0) })
        runner.prioritize(index: 7)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 120))
        // Current, next, previous; then forward from the current case, wrapping around.
        XCTAssertEqual(order.all, [7, 8, 6, 9, 10, 11, 0, 1, 2, 3, 4, 5])
        XCTAssertTrue(runner.snapshot().allSatisfy { $0.prediction != nil })
    }

    func testPrioritizeWhileRunningJumpsTheQueue() throws {
        let (_, paths) = try makeImages(40)
        let order = CaseOrder()
        // Hold the runner after case 3 until the reviewer has moved: the order then does not depend on timing.
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        order.onCase = { index in
            if index == 3 { entered.signal(); release.wait() }
        }
        let runner = InferenceRunner(imagePaths: paths, classifier: try RunnerFixtures.ensemble(), cache: nil,
                                     onUpdate: { order.record($0) })
        runner.start()
        XCTAssertEqual(entered.wait(timeout: .now() + 120), .success)
        runner.prioritize(index: 30)
        release.signal()
        // Then 30, then its neighbours 31 and 29.
        XCTAssertTrue(runner.waitUntilFinished(timeout: 300))
        let calls = order.all
        XCTAssertEqual(Array(calls.prefix(7)), [0, 1, 2, 3, 30, 31, 29])
        XCTAssertEqual(Set(calls), Set(0..<40), "every case once")
        XCTAssertEqual(calls.count, 40)
    }

    func testStopEndsTheThreadEarly() throws {
        let (_, paths) = try makeImages(50)
        let runner = InferenceRunner(imagePaths: paths, classifier: try RunnerFixtures.ensemble(), cache: nil)
        runner.start()
        let deadline = Date().addingTimeInterval(120)
        while runner.progress.done < 2 && Date() < deadline { usleep(1000) }
        runner.stop()
        let done = runner.progress.done
        XCTAssertGreaterThanOrEqual(done, 2)
        XCTAssertLessThan(done, 50)
        usleep(200_000)
        XCTAssertEqual(runner.progress.done, done, "no work after stop")
        XCTAssertFalse(runner.waitUntilFinished(timeout: 0.1))
    }

    func testStopFromTheUpdateCallbackDoesNotDeadlock() throws {
        let (_, paths) = try makeImages(10)
        let box = RunnerBox()
        let runner = InferenceRunner(imagePaths: paths, classifier: try RunnerFixtures.ensemble(), cache: nil,
                                     onUpdate: { index in if index == 2 { box.runner?.stop() } })
        box.runner = runner
        runner.start()
        let deadline = Date().addingTimeInterval(120)
        while runner.progress.done < 3 && Date() < deadline { usleep(1000) }
        runner.stop()
        XCTAssertEqual(runner.progress.done, 3)
    }

    func testMissingFileFailsWithAOneLineMarker() throws {
        let (dir, paths) = try makeImages(1)
        let runner = InferenceRunner(imagePaths: paths + [dir + "/gone.jpg"], classifier: try RunnerFixtures.ensemble(), cache: nil)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 120))
        XCTAssertEqual(runner.state(at: 1), .failed("gone.jpg: file not found"))
        XCTAssertNotNil(runner.state(at: 0).prediction)
    }

    func testRunnerAndDecisionsShareTheStore() throws {
        let (dir, paths) = try makeImages(30)
        let store = try ReviewStore(path: dir + "/review.sqlite")
        let classifier = try RunnerFixtures.ensemble()
        let runner = InferenceRunner(imagePaths: paths, classifier: classifier, cache: store.predictionCache)
        runner.start()
        for i in 0..<30 { try store.record(sampleDecision("case\(i).jpg")) }
        XCTAssertTrue(runner.waitUntilFinished(timeout: 300))
        XCTAssertNil(runner.storeError)
        XCTAssertEqual(try store.allDecisions(reviewer: "alice").count, 30)
        for (state, path) in zip(runner.snapshot(), paths) {
            XCTAssertNotNil(state.prediction)
            let hash = ContentDigest.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertNotNil(try store.predictionCache.cachedPrediction(imageHash: hash, weightsID: classifier.inferenceSpec.weightsID))
        }
    }

    func testEmptySplitIsImmediatelyFinished() throws {
        let runner = InferenceRunner(imagePaths: [], classifier: try RunnerFixtures.ensemble(), cache: nil)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 5))
        XCTAssertTrue(runner.isFinished)
        runner.prioritize(index: 0)
        XCTAssertEqual(runner.state(at: 3), .pending)
    }
}

final class RunnerBox: @unchecked Sendable { var runner: InferenceRunner? }
