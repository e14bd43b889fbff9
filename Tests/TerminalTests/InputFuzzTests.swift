import Foundation
import Store
import XCTest

/// The input rule, against the real binary over a pty: nothing is recorded unless a decision key arrived alone.
/// Pastes (bracketed or not), unknown sequences and random bytes never decide, never crash, never hang.
final class InputFuzzTests: XCTestCase {
    var tmp: URL!
    let sample = PseudoTerminal.repoRoot.appendingPathComponent("samples/hbfmid-test").path

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    var dbPath: String { tmp.appendingPathComponent("review.sqlite").path }

    func launch() throws -> PseudoTerminal {
        // No model: the input path is the same, and the screen settles at once.
        try PseudoTerminal(arguments: ["review", sample, "--db", dbPath, "--reviewer", "fuzz", "--graphics", "blocks",
                                       "--export", tmp.appendingPathComponent("out.csv").path],
                           cols: 100, rows: 30, environment: ["FRACVIEW_WEIGHTS": ""])
    }

    func recorded() throws -> Int {
        guard FileManager.default.fileExists(atPath: dbPath) else { return 0 }
        return try ReviewStore(path: dbPath).decisions(reviewer: "fuzz", split: "test").count
    }

    /// The reported reproducers: `n`, then a paste of "looks fine⏎5", saved the note and relabelled to class 5.
    func testPastedLineBreaksNeverSaveOrDecide() throws {
        let t = try launch()
        t.waitFor(text: "1/64")
        t.send("n")
        t.waitFor(text: "Note")
        t.send("looks fine\r5")
        t.waitFor(text: "looks fine 5")
        t.send("\u{1B}[200~ and\r\n3\u{1B}[201~")
        t.waitFor(text: "looks fine 5 and 3")
        XCTAssertEqual(try recorded(), 0, "nothing is saved until Enter arrives alone")
        t.press(.escape)
        t.waitFor("the editor to close") { !$0.contains("Note ·") }
        XCTAssertEqual(try recorded(), 0, "Esc cancels the note")

        // On the main screen a paste is ignored, with a message; so are keys that arrive together.
        t.send("\u{1B}[200~hi 5\r\u{1B}[201~")
        t.waitFor(text: "ignored 5 keys")
        t.send("a5f")
        t.waitFor(text: "ignored 3 keys")
        t.send("\u{1B}[99X")
        t.waitFor(text: "unknown key sequence")
        XCTAssertEqual(try recorded(), 0)
        t.waitFor(text: "1/64")

        // Cursor keys still work in a burst (a held arrow, typed ahead), in both cursor-key modes.
        t.send("\u{1B}[C\u{1B}OC\u{1B}[C")
        t.waitFor(text: "4/64")
        // A decision key that arrives alone is recorded.
        t.send("a")
        t.waitFor(text: "5/64")
        XCTAssertEqual(try recorded(), 1)
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// Random bytes and sequences in bursts, with lone keys that open and close every panel in between
    /// (never a lone decision key, Enter or q). Then 0 rows, a live process, and a lone `a` still decides.
    func testFuzzedInputRecordsNothing() throws {
        let t = try launch()
        t.waitFor(text: "1/64")
        var rng = SplitMix(seed: 20261201)
        let pieces = ["\u{1B}[A", "\u{1B}[B", "\u{1B}[C", "\u{1B}[D", "\u{1B}OC", "\u{1B}[5~", "\u{1B}[6~", "\u{1B}[200~",
                      "\u{1B}[201~", "\u{1B}[99X", "\u{1B}[?62;4c", "\u{1B}]0;x\u{07}", "\u{1B}P1$r\u{1B}\\", "\u{1B}",
                      "\u{1B}[", "\u{1B}O", "\r", "\n", "\t", "\u{7F}", "a", "f", "u", "c", "n", "q", "e", "0", "3", "5",
                      "9", "\u{03}", "é", "\u{202E}", "/", "?", "m", "g"]
        let loneKeys = ["n", "c", "/", "?", "m", "g", "i", "+", "-", "b", "\u{1B}", "\u{1B}[C", "\u{1B}[D", "j", "k", "L", "S"]
        var lone = 0, bursts = 0
        for round in 0..<300 {
            if rng.next() % 3 == 0 {
                t.send(loneKeys[Int(rng.next() % UInt64(loneKeys.count))]); lone += 1
            }
            var chunk: [UInt8] = []
            let parts = 2 + Int(rng.next() % 6)
            for _ in 0..<parts {
                if rng.next() % 3 == 0 {
                    chunk += (0..<(1 + Int(rng.next() % 6))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                } else {
                    chunk += Array(pieces[Int(rng.next() % UInt64(pieces.count))].utf8)
                }
            }
            t.send(bytes: chunk)
            bursts += 1
            XCTAssertNil(t.exitCode, "fracview exited in round \(round) after \(chunk)")
            if t.exitCode != nil { return }
        }
        XCTAssertEqual(try recorded(), 0, "\(bursts) bursts and \(lone) lone non-decision keys recorded decisions")

        // Still alive and responsive. A paste left open by the fuzz ends after 300 ms of quiet; then close
        // whatever is open, clear the filter, and decide once.
        let quiet = Date().addingTimeInterval(0.5)
        while Date() < quiet { t.pump(ms: 50) }
        for _ in 0..<4 { t.send("\u{1B}") }
        t.waitFor("the case screen") { $0.contains("/64") && !$0.contains("Note ·") }
        let before = try recorded()
        t.send("a")
        t.waitFor("the decision") { _ in ((try? self.recorded()) ?? 0) > before }
        XCTAssertEqual(try recorded(), 1)
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }
}
