import Foundation
@testable import Imaging
@testable import Inference
import XCTest

/// The case pipeline decodes each image once, whoever asks first, and keeps memory bounded.
final class CaseImagesTests: XCTestCase {
    /// A decoder that counts its calls per path and can be held inside a decode.
    final class SlowDecoder: @unchecked Sendable {
        let lock = NSLock()
        var calls: [String: Int] = [:]
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        var hold: String?
        lazy var decode: CaseImages.Decoder = { [unowned self] path, _ in
            lock.lock(); calls[path, default: 0] += 1; let held = hold == path; lock.unlock()
            if held { entered.signal(); release.wait() }
            return .success(RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6]))
        }
    }

    func testTheScreenWaitsForTheRunnersDecodeInsteadOfDecodingAgain() throws {
        let decoder = SlowDecoder()
        decoder.hold = "b"
        let images = CaseImages(paths: ["a", "b", "c"], decoder: decoder.decode)
        // The runner's thread starts decoding case 1 and is held there.
        let runnerDone = expectation(description: "runner decode")
        DispatchQueue.global().async {
            _ = images.image(1, loaded: (Data("b".utf8), "b"))
            runnerDone.fulfill()
        }
        XCTAssertEqual(decoder.entered.wait(timeout: .now() + 10), .success)
        // The reviewer arrives at case 1. The screen does not decode it a second time: within its short wait it gets
        // nothing, and focus starts no decode of it (only of its neighbours).
        images.focus(1)
        XCTAssertNil(images.image(1, waitingAtMost: 0.02))
        decoder.release.signal()
        wait(for: [runnerDone], timeout: 10)
        XCTAssertNotNil(images.image(1, waitingAtMost: 1))
        XCTAssertNotNil(images.cached(1))
        XCTAssertEqual(decoder.calls["b"], 1, "decoded once for both")
    }

    /// The runner walks the whole split: what it decodes away from the reviewer is used for the model's input and
    /// dropped, so it neither holds memory nor pushes out the cases the reviewer has seen.
    func testTheRunnersDecodesAwayFromTheReviewerAreNotKept() {
        let decoder = SlowDecoder()
        let images = CaseImages(paths: (0..<60).map { "img\($0)" }, capacity: 12, decoder: decoder.decode)
        for seen in [10, 20, 30] { images.focus(seen); XCTAssertNotNil(images.image(seen, waitingAtMost: 10)) }
        images.focus(40)
        XCTAssertNotNil(images.image(40, waitingAtMost: 10))
        for i in 0..<60 {
            XCTAssertNoThrow(try images.image(i, loaded: (Data(), "img\(i)"), keepingOutsideFocus: false).get(), "case \(i)")
        }
        let held = Set((0..<60).filter { images.cached($0) != nil })
        XCTAssertTrue([38, 39, 40, 41, 42].allSatisfy(held.contains), "the reviewer's neighbourhood: \(held.sorted())")
        XCTAssertTrue([20, 30].allSatisfy(held.contains), "cases the reviewer saw stay (capacity 12): \(held.sorted())")
        XCTAssertFalse(held.contains(0) || held.contains(50) || held.contains(59), "the runner's decodes are not kept: \(held.sorted())")
        XCTAssertLessThanOrEqual(held.count, 12 + 5)
        XCTAssertEqual(decoder.calls["img40"], 1, "a case in the neighbourhood is still decoded once for both")
    }

    func testMemoryStaysBoundedAndTheReviewersCaseIsKept() {
        let decoder = SlowDecoder()
        let paths = (0..<200).map { "img\($0)" }
        let images = CaseImages(paths: paths, capacity: 8, decoder: decoder.decode)
        images.focus(100)
        _ = images.image(100)
        // The runner walks the whole split.
        for i in 0..<200 where i != 100 { _ = images.image(i) }
        let held = (0..<200).filter { images.cached($0) != nil }
        XCTAssertLessThanOrEqual(held.count, 8 + 5, "capacity plus the reviewer's neighbourhood")
        XCTAssertTrue(held.contains(100), "the case on screen is never evicted")
        XCTAssertEqual(decoder.calls["img100"], 1)
        XCTAssertEqual(images.image(-1), .failure(ImageError(path: "case -1", reason: "no such case")))
    }

    /// Large images (a PACS's DICOMs) are held by bytes as well as by count: outside the reviewer's neighbourhood
    /// at most `byteLimit`, the most recently used kept; the neighbourhood itself whatever its size.
    func testLargeImagesAreHeldWithinTheByteLimit() {
        let side = 1000  // 3 MB of RGB each
        let images = CaseImages(paths: (0..<40).map { "big\($0)" }, capacity: 24, byteLimit: 10 << 20, decoder: { _, _ in
            .success(RGBImage(width: side, height: side, pixels: [UInt8](repeating: 7, count: side * side * 3)))
        })
        images.focus(0)
        for i in 0..<40 { _ = images.image(i) }
        let held = (0..<40).filter { images.cached($0) != nil }
        let outside = held.filter { !(0...2).contains($0) }
        XCTAssertEqual(outside.count, 3, "three 3 MB images fit in 10 MB beside the neighbourhood: \(held)")
        XCTAssertEqual(outside, [37, 38, 39], "the most recently used are the ones kept")
        XCTAssertTrue([0, 1, 2].allSatisfy(held.contains), "the reviewer's case and its neighbours are never evicted")
    }

    /// Drawing reads and never starts a decode; the review loop's `focus` on a case change does.
    func testOnlyFocusStartsDecodingAndTheScreenOnlyWaits() {
        let decoder = SlowDecoder()
        let images = CaseImages(paths: (0..<10).map { "img\($0)" }, decoder: decoder.decode)
        XCTAssertNil(images.image(4, waitingAtMost: 0.05), "nobody asked for it: nothing decodes it")
        XCTAssertEqual(images.decodeCount, 0)
        images.focus(4)
        XCTAssertNotNil(images.image(4, waitingAtMost: 10), "the focused case decodes in the background")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && [3, 5, 6].contains(where: { images.cached($0) == nil }) { usleep(10_000) }
        XCTAssertEqual(Set((0..<10).filter { images.cached($0) != nil }), [3, 4, 5, 6], "it and its neighbours, no more")
    }

    func testFailuresAreKeptLikeImages() {
        let images = CaseImages(paths: ["x"], decoder: { path, _ in .failure(ImageError(path: path, reason: "truncated")) })
        XCTAssertEqual(images.image(0), .failure(ImageError(path: "x", reason: "truncated")))
        XCTAssertEqual(images.image(0, waitingAtMost: 0), .failure(ImageError(path: "x", reason: "truncated")))
        XCTAssertEqual(images.decodeCount, 1, "a failed decode is not retried on every frame")
    }
}
