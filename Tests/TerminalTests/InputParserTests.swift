import Basics
@testable import Terminal
import XCTest

/// The byte-stream parser: complete sequences in both cursor modes, bracketed paste, UTF-8, and bounded buffers.
final class InputParserTests: XCTestCase {
    private func parse(_ text: String, flush: Bool = true) -> [InputEvent] {
        parse(Array(text.utf8), flush: flush)
    }

    private func parse(_ bytes: [UInt8], flush: Bool = true) -> [InputEvent] {
        var p = InputParser()
        var events = p.feed(bytes)
        if flush { events += p.flush() }
        return events
    }

    func testCursorKeysInBothModes() {
        let pairs: [(String, Key)] = [
            ("\u{1B}[A", .up), ("\u{1B}[B", .down), ("\u{1B}[C", .right), ("\u{1B}[D", .left),
            ("\u{1B}OA", .up), ("\u{1B}OB", .down), ("\u{1B}OC", .right), ("\u{1B}OD", .left),
            ("\u{1B}[H", .home), ("\u{1B}[F", .end), ("\u{1B}OH", .home), ("\u{1B}OF", .end),
            ("\u{1B}[1~", .home), ("\u{1B}[4~", .end), ("\u{1B}[7~", .home), ("\u{1B}[8~", .end),
            ("\u{1B}[5~", .pageUp), ("\u{1B}[6~", .pageDown), ("\u{1B}[3~", .delete),
            ("\u{1B}[1;5C", .right), ("\u{1B}[1;2A", .shiftUp), ("\u{1B}[1;2D", .shiftLeft), ("\u{1B}[1;3B", .down),
            ("\u{1B}OM", .enter),
        ]
        for (bytes, key) in pairs {
            XCTAssertEqual(parse(bytes), [.key(key)], bytes.debugDescription)
        }
    }

    /// The reported bug: ESC [ C arriving in application mode became Esc + `[` + `C`.
    func testNoSequenceBecomesSingleKeys() {
        for seq in ["\u{1B}[C", "\u{1B}[99X", "\u{1B}[?62;4c", "\u{1B}[>0;1;2c", "\u{1B}OP", "\u{1B}[15~", "\u{1B}[Z",
                    "\u{1B}]0;title\u{07}", "\u{1B}]52;c;aGk=\u{1B}\\", "\u{1B}P1$r0m\u{1B}\\", "\u{1B}_apc\u{1B}\\"] {
            let events = parse(seq)
            XCTAssertEqual(events.count, 1, "\(seq.debugDescription) → \(events)")
            for e in events {
                if case .key(.char) = e { XCTFail("\(seq.debugDescription) produced a character key") }
                if case .key(.escape) = e { XCTFail("\(seq.debugDescription) produced Escape") }
            }
        }
    }

    func testLoneEscapeOnlyAfterFlush() {
        var p = InputParser()
        XCTAssertEqual(p.feed([0x1B]), [])
        XCTAssertTrue(p.isPending)
        XCTAssertEqual(p.flush(), [.key(.escape)])
        XCTAssertEqual(parse("\u{1B}\u{1B}[C"), [.key(.escape), .key(.right)])
        // Alt+key is neither Escape nor the key.
        XCTAssertEqual(parse("\u{1B}a"), [.unknown("ESC a")])
    }

    func testSequencesSplitAcrossReads() {
        var p = InputParser()
        var events: [InputEvent] = []
        for b in Array("\u{1B}[5~\u{1B}OC\u{1B}[200~hé\n5\u{1B}[201~a".utf8) { events += p.feed([b]) }
        XCTAssertEqual(events, [.key(.pageUp), .key(.right), .paste("hé\n5"), .key(.char("a"))])
        XCTAssertFalse(p.isPending)
    }

    /// The other reported bug: a bracketed paste wrote six relabel rows and turned on invert.
    func testBracketedPasteIsOneTextEvent() {
        XCTAssertEqual(parse("\u{1B}[200~hi 5 i\r\n3\u{1B}[201~"), [.paste("hi 5 i\r\n3")])
        // A paste that never ends is handed over at flush, still as text.
        XCTAssertEqual(parse("\u{1B}[200~abc1"), [.paste("abc1")])
        // Escape sequences inside a paste are text, not keys.
        XCTAssertEqual(parse("\u{1B}[200~\u{1B}[C\u{1B}[201~"), [.paste("\u{1B}[C")])
    }

    func testPasteIsBounded() {
        let big = [UInt8]("\u{1B}[200~".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: InputParser.maxPaste * 3)
            + [UInt8]("\u{1B}[201~".utf8)
        let events = parse(big)
        guard case .paste(let text)? = events.first else { return XCTFail("\(events.prefix(2))") }
        XCTAssertEqual(text.utf8.count, InputParser.maxPaste)
        XCTAssertEqual(events.count, 2, "the cut is reported")
    }

    func testOverlongAndMalformedSequencesAreDropped() {
        let long = "\u{1B}[" + String(repeating: "1;", count: 100) + "C"
        let events = parse(long)
        XCTAssertEqual(events.count, 1, "an over-long sequence is one unknown event, and none of its bytes are keys: \(events)")
        XCTAssertTrue(events.allSatisfy { if case .unknown = $0 { return true } else { return false } })
        XCTAssertEqual(parse(long + "a"), [events[0], .key(.char("a"))])
        // A control byte inside a CSI ends it; the byte after it is read afresh.
        XCTAssertEqual(parse("\u{1B}[1\u{1B}[B"), [.unknown("ESC [ 1 (malformed)"), .key(.down)])
        XCTAssertEqual(parse("\u{1B}[1"), [.unknown("ESC [ 1 (cut off)")])
    }

    func testTextAndControls() {
        XCTAssertEqual(parse("a5é漢🦴"), [.key(.char("a")), .key(.char("5")), .key(.char("é")), .key(.char("漢")),
                                          .key(.char("🦴"))])
        XCTAssertEqual(parse("\r\n\t\u{7F}\u{08}\u{03}\u{0C}"), [.key(.enter), .key(.enter), .key(.tab), .key(.backspace),
                                                                .key(.backspace), .key(.char("\u{03}")), .key(.char("\u{0C}"))])
        XCTAssertEqual(parse("\u{01}"), [.unknown("Ctrl-A")])
        XCTAssertEqual(parse([0xFF, UInt8(ascii: "a")]), [.unknown("invalid UTF-8"), .key(.char("a"))])
        XCTAssertEqual(parse([0xC3, UInt8(ascii: "a")]), [.unknown("invalid UTF-8"), .key(.char("a"))])
        XCTAssertEqual(parse([0xED, 0xA0, 0x80]), [.unknown("invalid UTF-8")], "a surrogate is not a character")
        XCTAssertEqual(parse([0xE2, 0x82]), [.unknown("incomplete UTF-8")])
    }

    /// Random bytes: every byte is consumed, nothing crashes, pending state always ends at flush, and the number
    /// of events never exceeds the number of bytes.
    func testRandomBytesNeverCrashOrHold() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<3000 {
            let n = Int(rng.next() % 64)
            var bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Bias towards the interesting bytes.
            for i in bytes.indices where rng.next() % 4 == 0 {
                bytes[i] = [0x1B, 0x5B, 0x4F, 0x7E, 0x32, 0x30, 0x07, 0x5C, 0x3B][Int(rng.next() % 9)]
            }
            var p = InputParser()
            var events: [InputEvent] = []
            for chunk in bytes.chunked(by: Int(rng.next() % 8) + 1) { events += p.feed(chunk) }
            events += p.flush()
            XCTAssertFalse(p.isPending)
            XCTAssertLessThanOrEqual(events.count, bytes.count + 1)
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array {
    func chunked(by size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
