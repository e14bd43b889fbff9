import Foundation
import Imaging
@testable import Terminal
import XCTest

/// The background composition the image pane relies on for `g` and `→`: what it keeps, and what it drops.
final class ViewPrecomposerTests: XCTestCase {
    private func image(_ grey: UInt8) -> RGBImage {
        RGBImage(width: 12, height: 6, pixels: [UInt8](repeating: grey, count: 12 * 6 * 3))
    }

    private func waitFor(_ precomposer: ViewPrecomposer, _ key: String, seconds: Double = 5) -> ViewPrecomposer.Composed? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let hit = precomposer.take(key) { return hit }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// Holding → asks for a successor at every case: only the latest request is composed, the stale ones never
    /// start (their render is not even called), and the result is handed over once, sixel included.
    func testOnlyTheLatestDelayedRequestIsComposed() {
        let precomposer = ViewPrecomposer()
        let rendered = NSLock()
        nonisolated(unsafe) var calls: [String] = []
        for (i, key) in ["case-1", "case-2", "case-3"].enumerated() {
            precomposer.composeIfStill(key: key, after: 0.2, sixel: true) { [image = image(UInt8(40 * (i + 1)))] in
                rendered.lock(); calls.append(key); rendered.unlock()
                return (image, nil)
            }
        }
        let composed = waitFor(precomposer, "case-3")
        XCTAssertFalse(composed?.sixel?.isEmpty ?? true, "the sixel bytes are encoded in the background too")
        // A frame with its sixel keeps only its size, not its pixels; the sixel shows the latest request's image.
        XCTAssertNil(composed?.pixels)
        XCTAssertEqual(composed.map { [$0.width, $0.height] }, [12, 6])
        let shown = try? SixelGreyTests.decode(composed?.sixel ?? [])
        XCTAssertEqual(Double(shown?.pixels.first ?? 0), 120, accuracy: 3)
        Thread.sleep(forTimeInterval: 0.3)
        rendered.lock(); XCTAssertEqual(calls, ["case-3"]); rendered.unlock()
        XCTAssertNil(precomposer.take("case-1"))
        XCTAssertNil(precomposer.take("case-2"))
        XCTAssertNil(precomposer.take("case-3"), "handed over once")
    }

    /// Redraws of the same screen (the runner's progress, a team poll) ask for the same successor again and again,
    /// more often than the delay: the request already waiting keeps its place and is composed once.
    func testAskingAgainForTheWaitingKeyKeepsItsWait() {
        let precomposer = ViewPrecomposer()
        let rendered = NSLock()
        nonisolated(unsafe) var calls = 0
        for _ in 0..<8 {
            precomposer.composeIfStill(key: "next", after: 0.15, sixel: false) { [image = image(9)] in
                rendered.lock(); calls += 1; rendered.unlock()
                return (image, nil)
            }
            Thread.sleep(forTimeInterval: 0.05)  // 8 × 50 ms: each ask comes before the 150 ms are up
        }
        XCTAssertNotNil(waitFor(precomposer, "next"))
        Thread.sleep(forTimeInterval: 0.3)
        rendered.lock(); XCTAssertEqual(calls, 1); rendered.unlock()
    }

    /// A render that fails (nil) stores nothing; the view `g` shows next is composed right away, without sixel
    /// when the terminal draws half blocks.
    func testImmediateComposeAndFailedRenders() {
        let precomposer = ViewPrecomposer()
        precomposer.composeIfStill(key: "broken", after: 0.01, sixel: true) { nil }
        precomposer.compose(key: "next-view", sixel: false) { [image = image(7)] in (image, "note") }
        let composed = waitFor(precomposer, "next-view")
        XCTAssertEqual(composed?.note, "note")
        XCTAssertNil(composed?.sixel)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertNil(precomposer.take("broken"))
    }

    /// The next case and the next zoom step wait in slots of their own: one does not replace the other, and a case
    /// change (a newer request in each slot) drops both of the old case's before they start.
    func testTheZoomStepAndTheNextCaseHaveSlotsOfTheirOwnAndACaseChangeDropsBoth() {
        let precomposer = ViewPrecomposer()
        let rendered = NSLock()
        nonisolated(unsafe) var calls: [String] = []
        func ask(_ slot: ViewPrecomposer.Slot, _ key: String) {
            precomposer.composeIfStill(slot, key: key, after: 0.2, sixel: false) { [image = image(7)] in
                rendered.lock(); calls.append(key); rendered.unlock()
                return (image, nil)
            }
        }
        ask(.nextCase, "case-1 next")
        ask(.zoom, "case-1 zoom")
        // The reviewer moves on before the old case's requests start.
        ask(.nextCase, "case-2 next")
        ask(.zoom, "case-2 zoom")
        XCTAssertNotNil(waitFor(precomposer, "case-2 next"))
        XCTAssertNotNil(waitFor(precomposer, "case-2 zoom"))
        Thread.sleep(forTimeInterval: 0.3)
        rendered.lock(); XCTAssertEqual(Set(calls), ["case-2 next", "case-2 zoom"]); rendered.unlock()
    }

    /// What is held stays within its bounds in frames and in bytes, the oldest going first; the view kept on
    /// leaving it comes back once.
    func testHeldFramesStayWithinTheirBoundsAndAKeptViewComesBackOnce() {
        let frame = RGBImage(width: 100, height: 100, pixels: [UInt8](repeating: 1, count: 100 * 100 * 3))  // 30 KB
        let byFrames = ViewPrecomposer(capacity: 3, byteLimit: 1 << 30)
        for i in 0..<10 { byFrames.keep("view-\(i)", .init(rendered: frame, note: nil, sixel: nil)) }
        XCTAssertEqual(byFrames.heldCount, 3)
        XCTAssertNil(byFrames.take("view-6"), "the oldest went first")
        XCTAssertNotNil(byFrames.take("view-9"))
        XCTAssertNil(byFrames.take("view-9"), "handed over once")

        let byBytes = ViewPrecomposer(capacity: 100, byteLimit: 100_000)
        for i in 0..<10 { byBytes.keep("view-\(i)", .init(rendered: frame, note: nil, sixel: nil)) }
        XCTAssertLessThanOrEqual(byBytes.heldBytes, 100_000)
        XCTAssertEqual(byBytes.heldCount, 3, "30 KB of pixels each: three fit in 100 KB")
        XCTAssertNotNil(byBytes.take("view-9"))

        // With its sixel a frame holds only the sixel's bytes: ten 10 KB frames fit where three frames of pixels did.
        let sixels = ViewPrecomposer(capacity: 100, byteLimit: 100_000)
        let sixel = [UInt8](repeating: 0, count: 10_000)
        for i in 0..<10 { sixels.keep("view-\(i)", .init(rendered: frame, note: nil, sixel: sixel)) }
        XCTAssertEqual(sixels.heldBytes, 100_000)
        XCTAssertEqual(sixels.heldCount, 10)
        XCTAssertNil(sixels.take("view-0")?.pixels)

        let standard = ViewPrecomposer()
        XCTAssertEqual(standard.capacity, 6)
        XCTAssertEqual(standard.byteLimit, 48 << 20)
    }
}
