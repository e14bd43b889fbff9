import Foundation
import Imaging
@testable import Terminal
import XCTest

final class ViewPrecomposerTests: XCTestCase {
    private func frame(_ side: Int) -> RGBImage { RGBImage(width: side, height: side, pixels: [UInt8](repeating: 90, count: side * side * 3)) }

    private func waitUntil(_ what: String, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { usleep(2000) }
        XCTAssertTrue(condition(), what)
    }

    func testACaseChangeDropsTheOldCasesQueuedViewsAndDiscardsTheRunningOne() {
        let precomposer = ViewPrecomposer()
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let image = frame(8)
        precomposer.composeViews(forCase: 1, [
            (key: "1|cam", sixel: false, render: { started.signal(); release.wait(); return (image, nil) }),
            (key: "1|attention", sixel: false, render: { (image, nil) }),
            (key: "1|zoom", sixel: false, render: { (image, nil) }),
        ])
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        // The reviewer moves on while case 1's first view is being composed.
        precomposer.composeViews(forCase: 2, [(key: "2|cam", sixel: false, render: { (image, nil) })])
        release.signal()
        waitUntil("case 2's view is composed") { precomposer.isReady("2|cam") }
        XCTAssertEqual(precomposer.renders, 2, "case 1's queued views never ran")
        XCTAssertFalse(precomposer.isReady("1|cam"), "the view that was running for case 1 is not kept")
        XCTAssertFalse(precomposer.isReady("1|attention"))
        XCTAssertNotNil(precomposer.take("2|cam"))
        XCTAssertNil(precomposer.take("2|cam"), "handed over once")
    }

    func testWhatIsKeptStaysWithinItsFramesAndBytes() {
        // 10×10 frames are 300 bytes: three fit the frame limit, but only three of 300 fit 1000 bytes either.
        let precomposer = ViewPrecomposer(capacity: 4, byteLimit: 1000)
        let image = frame(10)
        for i in 0..<8 {
            precomposer.composeViews(forCase: 7, [(key: "7|\(i)", sixel: false, render: { (image, nil) })])
        }
        waitUntil("the last view is composed") { precomposer.isReady("7|7") }
        let held = precomposer.held
        XCTAssertLessThanOrEqual(held.frames, 3)
        XCTAssertLessThanOrEqual(held.bytes, 1000)
        XCTAssertTrue(precomposer.isReady("7|6") && precomposer.isReady("7|5"), "the most recent are kept")
        XCTAssertFalse(precomposer.isReady("7|0"), "the oldest went first")
        // A frame larger than the whole budget is never kept.
        let big = frame(40)
        precomposer.composeViews(forCase: 7, [(key: "7|big", sixel: false, render: { (big, nil) })])
        waitUntil("the big view has run") { precomposer.renders == 9 }
        usleep(20000)
        XCTAssertFalse(precomposer.isReady("7|big"))
        XCTAssertLessThanOrEqual(precomposer.held.bytes, 1000)
    }

    func testTheReviewScreensBoundHoldsSeveralFullSizeSixelFrames() throws {
        // The screen's default: six frames within 48 MB, which real frames (a 798×798 CAM in sixel) respect.
        let precomposer = ViewPrecomposer()
        XCTAssertEqual(precomposer.capacity, 6)
        XCTAssertEqual(precomposer.byteLimit, 48 << 20)
        // A smooth colour field, as a CAM overlay is (noise would make a sixel far larger than any real frame).
        var pixels = [UInt8](repeating: 0, count: 798 * 798 * 3)
        for y in 0..<798 {
            for x in 0..<798 {
                let i = (y * 798 + x) * 3
                pixels[i] = UInt8(x * 255 / 797); pixels[i + 1] = UInt8(y * 255 / 797); pixels[i + 2] = UInt8((x + y) % 64 + 40)
            }
        }
        let colour = RGBImage(width: 798, height: 798, pixels: pixels)
        for i in 0..<8 {
            precomposer.composeViews(forCase: 3, [(key: "3|\(i)", sixel: true, render: { (colour, nil) })])
        }
        waitUntil("all composed") { precomposer.renders == 8 && precomposer.isReady("3|7") }
        let held = precomposer.held
        XCTAssertLessThanOrEqual(held.frames, 6)
        XCTAssertLessThanOrEqual(held.bytes, 48 << 20)
        XCTAssertGreaterThanOrEqual(held.frames, 2)
        XCTAssertGreaterThan(held.bytes, held.frames * 798 * 798 * 3, "the sixel bytes are counted too")
    }
}
