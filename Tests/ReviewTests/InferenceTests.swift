import Datasets
import Foundation
@testable import Imaging
@testable import Inference
@testable import Model
@testable import Store
import XCTest

/// A deterministic stand-in for the model: the "image" is a text file holding a class index, the output puts
/// most probability on that class. It records the order it was called in.
final class FakeCaseClassifier: CaseClassifier, @unchecked Sendable {
    let inferenceSpec = InferenceSpec(width: 4, height: 2, mean: [0, 0, 0], std: [1, 1, 1], weightsID: "fake-w1")
    private let lock = NSLock()
    private var seen: [Float] = []
    var delay: useconds_t = 0
    /// Called with each input before it is classified, on the runner's thread (a test can hold the runner there).
    var onRun: ((Float) -> Void)?
    var calls: [Float] { lock.lock(); defer { lock.unlock() }; return seen }

    func run(input: [Float], gradcam: Bool) -> Prediction {
        onRun?(input[0])
        if delay > 0 { usleep(delay) }
        lock.lock(); seen.append(input[0]); lock.unlock()
        let cls = Int(input[0]) % 10
        var p = [Float](repeating: 0.02, count: 10)
        p[cls] = 0.82
        let attention = FeatureMap(width: 2, height: 2, values: [input[0] / 100, 0.5, 0.25, 1])
        var prediction = Prediction(probabilities: p, attention: attention, gradcam: nil)
        if gradcam { // every CAM method a map of its own (Grad-CAM's: [1, 0, 0, class / 10])
            for (k, method) in CAMMethod.all.enumerated() {
                prediction.maps[method.id] = FeatureMap(width: 2, height: 2, values: [1, 0, Float(k) / 10, Float(cls) / 10])
            }
        }
        return prediction
    }
}

/// Decodes the fake image: a number, as a 1×1 grey pixel; anything else fails as a real decoder would.
let fakeDecoder: CaseImages.Decoder = { path, bytes in
    let data = bytes ?? (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let value = UInt8(text) else { return .failure(ImageError(path: path, reason: "not a JPEG or PNG file")) }
    return .success(RGBImage(width: 1, height: 1, pixels: [value, value, value]))
}

/// The fake model's input: the pixel's value everywhere.
let fakeLoader: InferenceRunner.InputLoader = { image, spec in
    PreparedInput(tensor: [Float](repeating: Float(image.pixels[0]), count: 3 * spec.width * spec.height))
}

func fakeImages(_ paths: [String]) -> CaseImages { CaseImages(paths: paths, decoder: fakeDecoder) }

final class InferenceTests: XCTestCase {
    private func makeImages(_ contents: [String]) throws -> (dir: String, paths: [String]) {
        let dir = try makeStoreTempDir(self)
        let paths = try contents.enumerated().map { i, text -> String in
            let path = dir + String(format: "/img%03d.jpg", i)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        return (dir, paths)
    }

    func testCacheKeyIsTheSHA256OfTheFileBytes() throws {
        let (dir, paths) = try makeImages(["abc"])
        let store = try ReviewStore(path: dir + "/review.sqlite")
        let images = CaseImages(paths: paths, decoder: { _, _ in .success(RGBImage(width: 1, height: 1, pixels: [1, 1, 1])) })
        let runner = InferenceRunner(images: images, classifier: FakeCaseClassifier(), store: store, loader: fakeLoader)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 30))
        XCTAssertNotNil(try store.cachedPrediction(imageHash: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                                                   weightsID: "fake-w1"))
    }

    func testComputesEveryCaseAndFillsTheCache() throws {
        let (dir, paths) = try makeImages(["3", "8", "0", "corrupt", "5"])
        let store = try ReviewStore(path: dir + "/review.sqlite")
        let fake = FakeCaseClassifier()
        let updates = StoreTestErrors()
        let runner = InferenceRunner(images: fakeImages(paths), classifier: fake, store: store, loader: fakeLoader,
                                     onUpdate: { updates.append("\($0)") })
        XCTAssertEqual(runner.progress.done, 0)
        XCTAssertEqual(runner.state(at: 0), .pending)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 30))
        XCTAssertEqual(runner.progress.done, 5)
        XCTAssertEqual(runner.progress.total, 5)
        XCTAssertEqual(runner.generation, 5)
        XCTAssertEqual(Set(updates.all), ["0", "1", "2", "3", "4"])
        XCTAssertEqual(fake.calls, [3, 8, 0, 5], "in order; the corrupt image never reaches the model")

        let result = try XCTUnwrap(runner.state(at: 1).prediction)
        XCTAssertEqual(result.predicted, 8)
        XCTAssertEqual(result.confidence, 0.82)
        XCTAssertEqual(result.gradcam?.values, [1, 0, 0, 0.8])
        XCTAssertEqual(runner.images.decodeCount, 5, "each case decoded once")
        guard case .failed(let message) = runner.state(at: 3) else { return XCTFail("corrupt image must fail") }
        XCTAssertTrue(message.contains("not a JPEG or PNG"), message)
        XCTAssertFalse(message.contains("\n"))
        XCTAssertNil(runner.storeError)

        let cached = try XCTUnwrap(try store.cachedPrediction(imageHash: ContentDigest.sha256Hex(Data("8".utf8)), weightsID: "fake-w1"))
        XCTAssertEqual(cached.probabilities, result.probabilities)
        XCTAssertEqual(cached.attention, result.attention)
        XCTAssertEqual(cached.gradcam, result.gradcam)
        XCTAssertEqual(cached.maps, result.maps, "every CAM method's map comes back from the cache")
        XCTAssertEqual(cached.maps.count, CAMMethod.all.count)
    }

    /// Issue #23: the runner reads through the guarded loader. A case that names a FIFO, a directory or a missing
    /// file fails with its reason at once (a case list that is not a folder listing may name anything), never
    /// blocks the runner.
    func testTheRunnerReadsOnlyRegularFiles() throws {
        let (dir, paths) = try makeImages(["3"])
        XCTAssertEqual(mkfifo(dir + "/pipe.jpg", 0o644), 0)
        try FileManager.default.createDirectory(atPath: dir + "/folder.jpg", withIntermediateDirectories: false)
        let runner = InferenceRunner(images: fakeImages(paths + [dir + "/pipe.jpg", dir + "/folder.jpg", dir + "/gone.jpg"]),
                                     classifier: FakeCaseClassifier(), store: nil, loader: fakeLoader)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 30), "a FIFO must not block the runner")
        XCTAssertNotNil(runner.state(at: 0).prediction)
        for (i, reason) in [(1, "not a regular file"), (2, "is a directory"), (3, "file not found")] {
            guard case .failed(let message) = runner.state(at: i) else { return XCTFail("case \(i) must fail") }
            XCTAssertTrue(message.contains(reason), message)
        }
        XCTAssertThrowsError(try SplitManifest.read(path: dir + "/pipe.jpg")) { XCTAssertTrue("\($0)".contains("cannot read manifest")) }
    }

    func testReopeningIsServedFromTheCache() throws {
        let (dir, paths) = try makeImages(["1", "2", "3"])
        let dbPath = dir + "/review.sqlite"
        let first = InferenceRunner(images: fakeImages(paths), classifier: FakeCaseClassifier(), store: try ReviewStore(path: dbPath),
                                    loader: fakeLoader)
        first.start()
        XCTAssertTrue(first.waitUntilFinished(timeout: 30))

        // Same content under a new name hits too: the key is the bytes' hash.
        try FileManager.default.moveItem(atPath: paths[2], toPath: dir + "/renamed.jpg")
        let fake = FakeCaseClassifier()
        let second = InferenceRunner(imagePaths: [paths[0], paths[1], dir + "/renamed.jpg"], classifier: fake,
                                     store: try ReviewStore(path: dbPath), loader: fakeLoader)
        second.start()
        XCTAssertTrue(second.waitUntilFinished(timeout: 30))
        XCTAssertEqual(fake.calls, [], "nothing recomputed")
        XCTAssertEqual(second.images.decodeCount, 0, "a cached case is not even decoded")
        XCTAssertEqual(second.snapshot().map { $0.prediction?.predicted }, [1, 2, 3])
        for i in 0..<3 {
            let fresh = try XCTUnwrap(first.state(at: i).prediction)
            let cached = try XCTUnwrap(second.state(at: i).prediction)
            XCTAssertEqual(cached.probabilities, fresh.probabilities)
            XCTAssertEqual(cached.attention, fresh.attention)
            XCTAssertEqual(cached.gradcam, fresh.gradcam)
        }

        // An edited image misses.
        try Data("7".utf8).write(to: URL(fileURLWithPath: paths[0]))
        let fake3 = FakeCaseClassifier()
        let third = InferenceRunner(images: fakeImages([paths[0]]), classifier: fake3, store: try ReviewStore(path: dbPath),
                                    loader: fakeLoader)
        third.start()
        XCTAssertTrue(third.waitUntilFinished(timeout: 30))
        XCTAssertEqual(fake3.calls, [7])
    }

    func testPrioritizeComputesTheCurrentCaseAndNeighboursFirst() throws {
        let (_, paths) = try makeImages((0..<12).map(String.init))
        let fake = FakeCaseClassifier()
        let runner = InferenceRunner(images: fakeImages(paths), classifier: fake, store: nil, loader: fakeLoader)
        runner.prioritize(index: 7)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 30))
        // Current, next, previous; then forward from the current case, wrapping around.
        XCTAssertEqual(fake.calls, [7, 8, 6, 9, 10, 11, 0, 1, 2, 3, 4, 5])
    }

    func testPrioritizeWhileRunningJumpsTheQueue() throws {
        let (_, paths) = try makeImages((0..<40).map(String.init))
        let fake = FakeCaseClassifier()
        // Hold the runner inside case 3 until the reviewer has moved: the order then does not depend on timing.
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        fake.onRun = { value in
            if value == 3 { entered.signal(); release.wait() }
        }
        let runner = InferenceRunner(images: fakeImages(paths), classifier: fake, store: nil, loader: fakeLoader)
        runner.start()
        XCTAssertEqual(entered.wait(timeout: .now() + 30), .success)
        runner.prioritize(index: 30)
        release.signal()
        // The case in flight finishes, then 30, then its neighbours 31 and 29.
        XCTAssertTrue(runner.waitUntilFinished(timeout: 60))
        let calls = fake.calls.map(Int.init)
        XCTAssertEqual(Array(calls.prefix(7)), [0, 1, 2, 3, 30, 31, 29])
        XCTAssertEqual(Set(calls), Set(0..<40), "every case once")
        XCTAssertEqual(calls.count, 40)
    }

    func testStopEndsTheThreadEarly() throws {
        let (_, paths) = try makeImages((0..<50).map(String.init))
        let fake = FakeCaseClassifier()
        fake.delay = 10_000
        let runner = InferenceRunner(images: fakeImages(paths), classifier: fake, store: nil, loader: fakeLoader)
        runner.start()
        while runner.progress.done < 2 { usleep(1000) }
        runner.stop()
        let done = runner.progress.done
        XCTAssertLessThan(done, 50)
        usleep(50_000)
        XCTAssertEqual(runner.progress.done, done, "no work after stop")
        XCTAssertFalse(runner.waitUntilFinished(timeout: 0.1))
    }

    func testStopFromTheUpdateCallbackDoesNotDeadlock() throws {
        let (_, paths) = try makeImages((0..<10).map(String.init))
        let box = RunnerBox()
        let runner = InferenceRunner(images: fakeImages(paths), classifier: FakeCaseClassifier(), store: nil, loader: fakeLoader,
                                     onUpdate: { index in if index == 2 { box.runner?.stop() } })
        box.runner = runner
        runner.start()
        let deadline = Date().addingTimeInterval(10)
        while runner.progress.done < 3 && Date() < deadline { usleep(1000) }
        runner.stop()
        XCTAssertEqual(runner.progress.done, 3)
    }

    func testMissingFileFailsWithAOneLineMarker() throws {
        let (dir, paths) = try makeImages(["1"])
        let runner = InferenceRunner(images: fakeImages(paths + [dir + "/gone.jpg"]), classifier: FakeCaseClassifier(), store: nil,
                                     loader: fakeLoader)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 30))
        XCTAssertEqual(runner.state(at: 1), .failed("gone.jpg: file not found"))
        XCTAssertNotNil(runner.state(at: 0).prediction)
    }

    func testRunnerAndDecisionsShareTheStore() throws {
        let (dir, paths) = try makeImages((0..<30).map(String.init))
        let store = try ReviewStore(path: dir + "/review.sqlite")
        let runner = InferenceRunner(images: fakeImages(paths), classifier: FakeCaseClassifier(), store: store, loader: fakeLoader)
        runner.start()
        for i in 0..<30 { try store.record(sampleDecision("case\(i).jpg")) }
        XCTAssertTrue(runner.waitUntilFinished(timeout: 30))
        XCTAssertNil(runner.storeError)
        XCTAssertEqual(try store.allDecisions(reviewer: "alice").count, 30)
        for (state, path) in zip(runner.snapshot(), paths) {
            XCTAssertNotNil(state.prediction)
            let hash = ContentDigest.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertNotNil(try store.cachedPrediction(imageHash: hash, weightsID: "fake-w1"))
        }
    }

    func testEmptySplitIsImmediatelyFinished() {
        let runner = InferenceRunner(images: fakeImages([]), classifier: FakeCaseClassifier(), store: nil, loader: fakeLoader)
        runner.start()
        XCTAssertTrue(runner.waitUntilFinished(timeout: 5))
        XCTAssertTrue(runner.isFinished)
        runner.prioritize(index: 0)
        XCTAssertEqual(runner.state(at: 3), .pending)
    }
}

final class RunnerBox: @unchecked Sendable { var runner: InferenceRunner? }
