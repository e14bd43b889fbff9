import CSixel
import Datasets
import Engine
import Foundation
import Imaging
import Model
import Store
import Terminal
import XCTest

/// Drives the real binary through a pseudo-terminal: keys in, screen text, SQLite rows and the CSV out.
final class ReviewTUITests: XCTestCase {
    var tmp: URL!
    let sample = PseudoTerminal.repoRoot.appendingPathComponent("samples/hbfmid-test").path

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-tui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    var dbPath: String { tmp.appendingPathComponent("review.sqlite").path }
    var csvPath: String { tmp.appendingPathComponent("out.csv").path }

    /// Tiny test weights from the engine fixtures when present (the TUI also works without a model).
    func weightsArguments() -> [String] {
        let dir = PseudoTerminal.repoRoot.appendingPathComponent("Tests/Fixtures/engine")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        // model_tiny_*.safetensors: a tiny FractureClassifier (random weights, the real architecture).
        if let f = files.sorted().first(where: { $0.hasPrefix("model_") && $0.hasSuffix(".safetensors") }) {
            return ["--weights", dir.appendingPathComponent(f).path]
        }
        return []
    }

    /// `weights`: these instead of the tiny test model (the shipped model's folder, say).
    func launch(_ extra: [String] = [], graphics: String = "blocks", cols: Int = 80, rows: Int = 24,
                dataset: String? = nil, weights: String? = nil) throws -> PseudoTerminal {
        try PseudoTerminal(arguments: ["review", dataset ?? sample, "--db", dbPath, "--reviewer", "tester",
                                       "--graphics", graphics, "--export", csvPath]
                               + (weights.map { ["--weights", $0] } ?? weightsArguments()) + extra,
                           cols: cols, rows: rows, environment: ["FRACVIEW_WEIGHTS": ""])
    }

    func decisions() throws -> [String: ReviewDecision] {
        try ReviewStore(path: dbPath).decisions(reviewer: "tester", split: "test")
    }

    // MARK: the review flow

    func testAcceptFlagRelabelNoteUndoExportAt80x24() throws {
        let t = try launch()
        t.waitFor(text: "1/64")
        t.waitFor(text: "Comminuted", timeout: 5)
        // The tiny test model is committed: this test always runs with a model, and asserts what the model adds.
        XCTAssertFalse(weightsArguments().isEmpty, "Tests/Fixtures/engine/model_tiny_*.safetensors is missing")
        // Background inference runs the case on screen first; the header shows its prediction and confidence.
        t.waitFor("a prediction in the header", timeout: 60) { $0.split(separator: "\n")[1].contains("%") }
        t.send("a")
        t.waitFor(text: "2/64")
        t.send("f")
        t.waitFor(text: "3/64")
        t.send("3") // relabel to class 3 (Linear) unless that is the label (then it is an accept)
        t.waitFor(text: "4/64")
        t.press(.left)
        t.waitFor(text: "3/64")
        t.send("n")
        t.waitFor(text: "Note")
        // Typed text and Enter come apart, as from a person: an Enter inside a burst is a space, never "save".
        t.send("check cortex, \"quoted\"")
        t.waitFor(text: "quoted")
        t.press(.enter)
        t.waitFor(text: "note saved")
        // Undo the note's update, then redo it: the undo restores the decision before it.
        t.send("u")
        t.waitFor(text: "undone")
        t.send("n")
        t.waitFor(text: "Note")
        t.send("check cortex")
        t.waitFor(text: "check cortex")
        t.press(.enter)
        t.waitFor(text: "note saved")
        t.send("e")
        t.waitFor(text: "exported 3 reviewed cases")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)

        let rows = try decisions()
        XCTAssertEqual(rows.count, 3)
        let cases = try YOLODataset.open(root: sample).cases(split: "test")
        let first = try XCTUnwrap(rows[cases[0].relativePath])
        XCTAssertEqual(first.status, .accepted)
        XCTAssertEqual(first.truth, cases[0].truth.classIndex)
        XCTAssertNotNil(first.predicted, "the decision records the prediction")
        XCTAssertEqual(first.probabilities.count, 10)
        XCTAssertFalse(first.weightsID.isEmpty)
        XCTAssertEqual(rows[cases[1].relativePath]?.status, .flagged)
        let third = try XCTUnwrap(rows[cases[2].relativePath])
        if cases[2].truth.classIndex == 3 {
            XCTAssertEqual(third.status, .accepted)
        } else {
            XCTAssertEqual(third.status, .relabelled)
            XCTAssertEqual(third.reviewerLabel, 3)
        }
        XCTAssertEqual(third.note, "check cortex")
        XCTAssertEqual(third.reviewer, "tester")

        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        let lines = csv.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        XCTAssertEqual(lines.count, 4, "header + 3 rows:\n\(csv)")
        for c in cases.prefix(3) {
            XCTAssertTrue(csv.contains((c.relativePath as NSString).lastPathComponent), "CSV misses \(c.relativePath)")
        }
    }

    func testFilterAndHelpOverlay() throws {
        let t = try launch()
        t.waitFor(text: "1/64")
        t.send("f")
        t.waitFor(text: "2/64")
        t.send("?")
        t.waitFor(text: "Keys")
        t.waitFor(text: "flag for relabelling")
        t.send("x")
        t.waitFor("help closed") { !$0.contains("any key closes") }
        t.send("/")
        t.waitFor(text: "Filter")
        t.press(.down); t.press(.down); t.press(.down) // all, disagreements, unreviewed, flagged
        t.press(.enter)
        t.waitFor(text: "of 64 · flagged")
        XCTAssertTrue(t.screen.text.contains("1/1"))
        t.press(.escape)
        t.waitFor(text: "filter cleared")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    // MARK: sizes

    func testSmallTerminalAndResize() throws {
        let t = try launch(cols: 40, rows: 12)
        t.waitFor(text: "terminal too small for image")
        t.waitFor(text: "Comminuted") // the bars stay at 40×12
        t.resize(cols: 80, rows: 24)
        t.waitFor(text: "X-ray")
        XCTAssertFalse(t.screen.text.contains("terminal too small"))
        t.resize(cols: 20, rows: 5)
        t.waitFor(text: "terminal too small")
        t.resize(cols: 120, rows: 40)
        t.waitFor(text: "CONFUSION")
        t.send("a")
        t.waitFor(text: "2/64")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertEqual(try decisions().count, 1)
    }

    func testTextOnlyModeListsCases() throws {
        let t = try launch(graphics: "none")
        t.waitFor(text: "CASES")
        let cases = try YOLODataset.open(root: sample).cases(split: "test")
        let name = (cases[1].relativePath as NSString).lastPathComponent
        t.waitFor(text: String(name.prefix(20))) // the start of the name: the source X-ray in Roboflow names
        XCTAssertTrue(t.screen.sixels.isEmpty)
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    // MARK: sixel

    func testSixelImageHasThePanePixelSize() throws {
        let t = try launch(graphics: "sixel", cols: 100, rows: 30)
        t.waitFor(text: "X-ray")
        t.waitFor("a sixel image") { _ in !t.screen.sixels.isEmpty }
        let sixel = try XCTUnwrap(t.screen.sixels.last)
        let (w, h) = try decodeSixel(sixel.bytes)
        let layout = ScreenLayout(cols: 100, rows: 30, classCount: 10, wantsImage: true)
        let pane = try XCTUnwrap(layout.image)
        let maxW = pane.width * 10, maxH = (pane.height - 1) * 20
        XCTAssertLessThanOrEqual(w, maxW)
        XCTAssertLessThanOrEqual(h, maxH)
        // Fitted: it touches the pane on one side (height in whole 6-pixel sixel bands).
        XCTAssertTrue(w == maxW || h >= maxH - 6, "sixel \(w)×\(h) does not fill the \(maxW)×\(maxH) pane")
        let first = try ImageDecoderSize.of(caseIndex: 0, sample: sample)
        XCTAssertEqual(Double(w) / Double(h), Double(first.0) / Double(first.1), accuracy: 0.05, "aspect ratio kept")
        XCTAssertGreaterThanOrEqual(sixel.row, pane.row + 1)
        // Moving on emits a new image.
        let before = t.screen.sixels.count
        t.press(.right)
        t.waitFor(text: "2/64")
        t.waitFor("a second sixel") { _ in t.screen.sixels.count > before }
        XCTAssertTrue(String(decoding: t.raw, as: UTF8.self).contains("\u{1B}[?2026h"), "synchronized output")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// Whatever covers the image (a modal, or the matrix when it has the side column to itself) erases its pixels
    /// once, and the image comes back when it is uncovered.
    func testSixelIsErasedWhileCoveredAndComesBack() throws {
        let t = try launch(graphics: "sixel", cols: 100, rows: 30)
        t.waitFor("a sixel image on screen") { _ in t.screen.sixelCellCount > 0 }
        for (key, title) in [("?", "any key closes"), ("c", "Correct label"), ("/", "⏎ apply"), ("n", "esc cancel")] {
            t.send(key)
            t.waitFor(text: title)
            t.waitFor("no sixel pixels left while “\(title)” is open") { _ in t.screen.sixelCellCount == 0 }
            let emitted = t.screen.sixels.count
            t.pump(ms: 300)
            XCTAssertEqual(t.screen.sixels.count, emitted, "no image is drawn while “\(title)” is open")
            t.press(.escape)
            t.waitFor("the image back after “\(title)”") { screen in !screen.contains(title) && t.screen.sixelCellCount > 0 }
        }
        // 100×20: the matrix does not fit beside the bars, so `m` gives it the side column and covers the image.
        let before = t.screen.sixels.count
        t.resize(cols: 100, rows: 20)
        t.waitFor("the image redrawn at 100×20") { _ in t.screen.sixels.count > before && t.screen.sixelCellCount > 0 }
        XCTAssertNil(ScreenLayout(cols: 100, rows: 20, classCount: 10, wantsImage: true).matrix)
        t.send("m")
        t.waitFor(text: "MATRIX")
        t.waitFor("no sixel pixels left under the matrix") { _ in t.screen.sixelCellCount == 0 }
        t.press(.escape)
        t.waitFor("the image back after the matrix") { screen in !screen.contains("MATRIX") && t.screen.sixelCellCount > 0 }
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// The path the reviewer's screen takes: the real binary at 140×45 on the bundled sample, the first case's X-ray
    /// with its label box drawn. The first sixel it writes is decoded and its greys counted (libsixel's median cut,
    /// which the box used to trigger, kept 32).
    func testFirstXRaySixelKeepsItsGreysWithTheBoxDrawn() throws {
        let t = try launch(graphics: "sixel", cols: 140, rows: 45)
        t.waitFor(text: "X-ray")
        t.waitFor("a sixel image") { _ in !t.screen.sixels.isEmpty }
        let shown = try SixelGreyTests.decode(try XCTUnwrap(t.screen.sixels.first).bytes)
        var colours = Set<Int>()
        for i in stride(from: 0, to: shown.pixels.count, by: 3) where
            !(shown.pixels[i] == shown.pixels[i + 1] && shown.pixels[i + 1] == shown.pixels[i + 2]) {
            colours.insert(Int(shown.pixels[i]) << 16 | Int(shown.pixels[i + 1]) << 8 | Int(shown.pixels[i + 2]))
        }
        XCTAssertFalse(colours.isEmpty, "the label box is drawn on the frame (it is not all grey)")
        XCTAssertGreaterThanOrEqual(SixelGreyTests.greyLevels(shown).count, 90, "the X-ray's greys on the real screen")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// The shipped model (fold classifiers and their localisers) on the bundled sample, as a user runs it: the
    /// localiser's dashed box is on the real sixel frame in the theme's colour, with the X-ray's greys kept; the
    /// caption gives its score, the header says whether it overlaps a label box, and `b` cycles the layers.
    func testTheShippedModelsBoxOnTheRealScreen() throws {
        let t = try launch(graphics: "sixel", cols: 140, rows: 45,
                           weights: PseudoTerminal.repoRoot.appendingPathComponent("weights/fracture-classifier").path)
        t.waitFor(text: "X-ray")
        t.waitFor("the model's box in the caption", timeout: 60) { $0.contains("model box 0.") }
        t.waitFor("the header's mark") { $0.contains("box ✓ on label") || $0.contains("box ✗ off label") }
        t.waitFor("a sixel with the model's box") { _ in
            guard let last = t.screen.sixels.last, let shown = try? SixelGreyTests.decode(last.bytes) else { return false }
            // Sixel colours are in percent: the theme's (0, 229, 255) comes back within a step of 2.55.
            return stride(from: 0, to: shown.pixels.count, by: 3).contains {
                shown.pixels[$0] <= 3 && abs(Int(shown.pixels[$0 + 1]) - 229) <= 3 && shown.pixels[$0 + 2] >= 252
            }
        }
        let shown = try SixelGreyTests.decode(try XCTUnwrap(t.screen.sixels.last).bytes)
        XCTAssertGreaterThanOrEqual(SixelGreyTests.greyLevels(shown).count, 90, "the X-ray keeps its greys with both boxes drawn")
        // `b` cycles; the caption follows.
        for (message, caption) in [("no boxes", "label boxes hidden · model box hidden"),
                                   ("label boxes only", "1 label box · model box hidden"),
                                   ("the model's box only", "label boxes hidden · model box 0.")] {
            t.send("b")
            t.waitFor(text: "boxes: " + message)
            t.waitFor(text: caption)
        }
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// The review process's memory with the shipped 15-model pipeline: while the model runs over the whole sample
    /// and while the reviewer steps through cases and views, within #28's goal of 250 MB. It peaked at 300–314 MB
    /// before the training signatures kept their bytes, the runner stopped keeping its decodes and large blocks
    /// went back to the system (254 MB with the first two alone); 230–234 MB after, on the machine docs/engine.md
    /// names (about 40 MB of it the binary and its libraries), 248–251 MB on the same machine a day later, and
    /// 237–239 MB once precomposed views kept their sixel without their pixels. A CPU that cannot widen half
    /// precision in hardware keeps the 1×1 weights as F32 panels, 100 MB more (docs/engine.md): its bound is 350 MB.
    func testTheReviewProcessPeaksWithinTheGoalWithTheShippedModel() throws {
        let t = try launch(graphics: "sixel", cols: 140, rows: 45,
                           weights: PseudoTerminal.repoRoot.appendingPathComponent("weights/fracture-classifier").path)
        t.waitFor(text: "X-ray")
        t.waitFor("the model over the whole sample", timeout: 300) { $0.contains("model") && $0.contains(" 64/64") }
        for k in 2...13 {
            t.press(.right)
            t.waitFor(text: "\(k)/64")
        }
        for key in ["g", "+", "=", "g"] { t.send(key); t.pump(ms: 300) }
        let status = try String(contentsOfFile: "/proc/\(t.pid)/status", encoding: .utf8)
        let peakKB = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { $0.split(separator: " ").compactMap { Int($0) }.first })
        let boundMB = HalfPrecision.widenedInHardware ? 250 : 350
        XCTAssertLessThanOrEqual(peakKB, boundMB << 10, "the review process peaked at \(peakKB >> 10) MB")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// `M` cycles the CAM method: the image switches to the CAM view, and the caption and the message name it.
    func testCAMMethodKeyCyclesAndTheCaptionNamesIt() throws {
        let t = try launch(cols: 120, rows: 40)
        t.waitFor(text: "X-ray")
        // The header's pointing-game mark: the model's maps are ready (generous: CI's machine may be busy).
        t.waitFor("the model's maps", timeout: 60) { $0.contains("CAM ✓") || $0.contains("CAM ✗") }
        // The registry's order, from the preferred method on.
        let all = CAMMethod.all, start = try XCTUnwrap(all.firstIndex(of: .preferred))
        t.send("g")
        t.waitFor(text: " \(CAMMethod.preferred.title) · ")
        // One press per method, round the registry back to the preferred one.
        for k in 1...all.count {
            let method = all[(start + k) % all.count]
            t.send("M")
            t.waitFor(text: "CAM method: \(method.title) (")
            t.waitFor(text: " \(method.title) · ")
        }
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testSixelDetectedByDeviceAttributes() throws {
        let t = try PseudoTerminal(arguments: ["review", sample, "--db", dbPath, "--reviewer", "tester"] + weightsArguments(),
                                   cols: 100, rows: 30, environment: ["FRACVIEW_WEIGHTS": ""])
        t.answerDA1WithSixel = true
        t.waitFor(text: "X-ray")
        t.waitFor("a sixel image after DA1") { _ in !t.screen.sixels.isEmpty }
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func decodeSixel(_ bytes: [UInt8]) throws -> (Int, Int) {
        var data = bytes
        var pixels: UnsafeMutablePointer<UInt8>?
        var palette: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, ncolors: Int32 = 0
        let status = sixel_decode_raw(&data, Int32(data.count), &pixels, &w, &h, &palette, &ncolors, nil)
        XCTAssertEqual(status, SIXEL_OK)
        free(pixels); free(palette)
        XCTAssertGreaterThan(ncolors, 1)
        return (Int(w), Int(h))
    }

    // MARK: crash safety and resume

    func testKillNineKeepsDecisionsAndResumesAtFirstUnreviewed() throws {
        do {
            let t = try launch()
            t.waitFor(text: "1/64")
            t.send("a"); t.waitFor(text: "2/64")
            t.send("f"); t.waitFor(text: "3/64")
            t.send("a"); t.waitFor(text: "4/64")
            t.killHard()
        }
        let rows = try decisions()
        XCTAssertEqual(rows.count, 3)
        let t = try launch()
        t.waitFor(text: "4/64")
        t.waitFor(text: "resumed")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// The kill -9 soak: 30 rounds, each a decision whose screen update is seen, then a second decision key and a
    /// kill at a random moment after it (mid-decision). After every kill the database passes SQLite's integrity
    /// check, every decision seen on screen is in it, and at most the one unconfirmed decision is added.
    func testKillNineSoakLosesNothingSeen() throws {
        var rng = SplitMix(seed: 99)
        var stored = 0
        for round in 0..<30 {
            let t = try launch()
            t.waitFor(text: "\(stored)/64 reviewed")
            t.send(["a", "f", "3"][round % 3])
            t.waitFor(text: "\(stored + 1)/64 reviewed")
            let seen = stored + 1
            // The next key, and the kill while it is being handled (or before, or after).
            t.send(bytes: Array(["a", "f", "5"][Int(rng.next() % 3)].utf8), settle: false)
            usleep(useconds_t(rng.next() % 30_000))
            t.killHard()
            XCTAssertEqual(try ReviewStore(path: dbPath, readOnly: true).integrityCheck(), "ok", "round \(round)")
            stored = try decisions().count
            XCTAssertTrue((seen...seen + 1).contains(stored), "round \(round): \(seen) seen on screen, \(stored) stored")
        }
    }

    /// Two windows open as the same reviewer on one database: each picks up the other's decisions (counts,
    /// matrix, filters) without a restart, and says so.
    func testTwoWindowsOfOneReviewerShareTheirDecisions() throws {
        let a = try launch(cols: 120)
        a.waitFor(text: "0/64 reviewed")
        let b = try launch(cols: 120)
        b.waitFor(text: "0/64 reviewed")
        b.send("a")
        b.waitFor(text: "1/64 reviewed")
        a.waitFor(text: "1/64 reviewed", timeout: 10)
        a.waitFor(text: "updated from another window")
        // And back: a's decision on the next case reaches b.
        a.press(.right)
        a.send("f")
        b.waitFor(text: "2/64 reviewed", timeout: 10)
        a.send("q"); b.send("q")
        XCTAssertEqual(a.waitForExit(), 0)
        XCTAssertEqual(b.waitForExit(), 0)
        XCTAssertEqual(try decisions().count, 2)
    }

    /// Disk full: the decision is refused with "NOT saved", nothing is lost, and once space is back the next
    /// decision saves and the "NOT saved" message goes. Needs root to mount a small tmpfs (as in CI).
    func testDiskFullRefusesThenRecovers() throws {
        let mountPoint = tmp.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try Self.shell("mount -t tmpfs -o size=4m tmpfs '\(mountPoint)'")
        guard getuid() == 0, mount == 0 else { throw XCTSkip("needs root to mount a tmpfs") }
        defer { _ = try? Self.shell("umount '\(mountPoint)'") }
        let db = mountPoint + "/review.sqlite"
        let t = try PseudoTerminal(arguments: ["review", sample, "--db", db, "--reviewer", "tester", "--graphics", "blocks",
                                               "--export", csvPath] + weightsArguments(),
                                   cols: 120, rows: 30, environment: ["FRACVIEW_WEIGHTS": ""])
        t.waitFor(text: "0/64 reviewed")
        t.waitFor("the model to finish", timeout: 120) { $0.contains("64/64 ") }
        t.send("a")
        t.waitFor(text: "1/64 reviewed")
        XCTAssertNotEqual(try Self.shell("dd if=/dev/zero of='\(mountPoint)/filler' bs=64k 2>/dev/null"), 0, "the tmpfs fills up")
        t.send("f")
        t.waitFor(text: "NOT saved")
        XCTAssertTrue(t.screen.text.contains("1/64 reviewed"), "the refused decision is not counted")
        try FileManager.default.removeItem(atPath: mountPoint + "/filler")
        t.send("f")
        t.waitFor(text: "2/64 reviewed")
        XCTAssertFalse(t.screen.text.contains("NOT saved"), "the refusal message goes once a decision saves:\n\(t.screen.text)")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertEqual(try ReviewStore(path: db).decisions(reviewer: "tester", split: "test").count, 2)
    }

    static func shell(_ command: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        return p.terminationStatus
    }

    /// A plain folder of DICOM files: reviewed with the model's classes, every case unlabelled, the caption in the
    /// file's own units, and `w` narrowing the window on the stored values.
    func testPlainFolderOfDICOMFiles() throws {
        let fixtures = PseudoTerminal.repoRoot.appendingPathComponent("Tests/Fixtures/dicom")
        let folder = tmp.appendingPathComponent("dicoms")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["explicit_le.dcm", "multiframe.dcm"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let t = try launch(cols: 120, rows: 30, dataset: folder.path)
        t.waitFor(text: "1/2")
        t.waitFor(text: "unlabelled")
        t.waitFor(text: "DICOM · W 4000 L 2048 (file)")
        t.send("w")
        t.waitFor(text: "DICOM · W 3200 L 2048")
        t.send("p")
        t.waitFor(text: "window: file window 1")
        t.press(.right)
        t.waitFor(text: "frame 1 of 3")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    // MARK: bad input

    func testFileNameWithEscapeCodesIsShownSanitized() throws {
        let root = tmp.appendingPathComponent("evil")
        let images = root.appendingPathComponent("test/images"), labels = root.appendingPathComponent("test/labels")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: labels, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample + "/data.yaml", toPath: root.appendingPathComponent("data.yaml").path)
        let src = try YOLODataset.open(root: sample).cases(split: "test")[0]
        let evil = "x\u{1B}]0;pwned\u{07}\u{1B}[2J.jpg"
        try FileManager.default.copyItem(atPath: src.imagePath, toPath: images.appendingPathComponent(evil).path)
        try "2 0.5 0.5 0.1 0.1\n".write(to: labels.appendingPathComponent("x\u{1B}]0;pwned\u{07}\u{1B}[2J.txt"), atomically: true, encoding: .utf8)
        // A second image whose label file is empty: shown as unlabelled.
        try FileManager.default.copyItem(atPath: src.imagePath, toPath: images.appendingPathComponent("y.jpg").path)
        try "".write(to: labels.appendingPathComponent("y.txt"), atomically: true, encoding: .utf8)
        // A third one that is not a JPEG at all: a marker in the pane, and it can still be flagged.
        try Data("not a jpeg".utf8).write(to: images.appendingPathComponent("z.jpg"))
        try "1 0.5 0.5 0.1 0.1\n".write(to: labels.appendingPathComponent("z.txt"), atomically: true, encoding: .utf8)
        let t = try launch(dataset: root.path)
        t.waitFor(text: "1/3")
        t.waitFor(text: "x?]0;pwned??[2J.jpg")
        t.press(.right)
        t.waitFor(text: "unlabelled")
        t.send("a") // accepting a missing label is refused, not silently recorded
        t.waitFor(text: "pick a class")
        t.press(.right)
        t.waitFor(text: "3/3")
        t.waitFor(text: "image cannot be decoded")
        t.send("f")
        t.waitFor(text: "⚑ flagged")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        let rows = try ReviewStore(path: dbPath).decisions(reviewer: "tester", split: "test")
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows["test/images/z.jpg"]?.status, .flagged)
    }

    func testLabelProblemsAreCountedInTheHeader() throws {
        let root = tmp.appendingPathComponent("badlabel")
        let images = root.appendingPathComponent("test/images"), labels = root.appendingPathComponent("test/labels")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: labels, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample + "/data.yaml", toPath: root.appendingPathComponent("data.yaml").path)
        let src = try YOLODataset.open(root: sample).cases(split: "test")[0]
        for name in ["a", "b"] {
            try FileManager.default.copyItem(atPath: src.imagePath, toPath: images.appendingPathComponent(name + ".jpg").path)
        }
        try "2 0.5 0.5 0.1 0.1\n".write(to: labels.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try "2 0.5 0.5\n".write(to: labels.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8) // malformed
        let t = try launch(cols: 110, dataset: root.path)
        t.waitFor(text: "1/2")
        // The bad line makes b unlabelled and is one label problem, as `fracview audit` counts it.
        t.waitFor(text: "⚠ 1 unlabelled · 1 label problems")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// Issue #11: a model whose classes come in another order than data.yaml's. The screen, the database and the
    /// CSV must name the class the model actually predicts (matched by name), never the one at the same index.
    func testModelWithReorderedClassesIsMappedByName() throws {
        let original = PseudoTerminal.repoRoot.appendingPathComponent("Tests/Fixtures/engine/model_tiny_lite0.safetensors").path
        let file = try SafeTensorsFile(path: original)
        let classes = try YOLODataset.open(root: sample).classes
        let order = Array(classes.indices.reversed())           // model index j holds dataset class order[j]
        var meta = file.metadata
        meta["classes"] = String(decoding: try JSONSerialization.data(withJSONObject: order.map { classes[$0] }), as: UTF8.self)
        var writer = SafeTensorsWriter(metadata: meta)
        for e in file.entries where e.dtype.isFloat {
            var values = try file.floats(e.name)
            if e.name == "classifier.4.weight" || e.name == "classifier.4.bias" {
                let width = values.count / classes.count
                let rows = (0..<classes.count).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
                values = order.flatMap { rows[$0] }
            }
            writer.add(e.name, shape: e.shape, values: values)
        }
        let reordered = tmp.appendingPathComponent("reordered.safetensors").path
        try writer.write(to: reordered)

        // What the original model predicts for the first case, in dataset order.
        let cases = try YOLODataset.open(root: sample).cases(split: "test")
        let model = try FractureClassifier(contentsOf: original)
        let image = try ImageDecoder.decode(path: cases[0].imagePath)
        let out = model.run(input: ModelInput.tensor(from: image, width: 224, height: 224, mean: model.info.mean,
                                                     std: model.info.std), maps: .none)
        let predicted = classes[out.predicted]

        let t = try PseudoTerminal(arguments: ["review", sample, "--db", dbPath, "--reviewer", "tester", "--graphics", "blocks",
                                               "--export", csvPath, "--weights", reordered],
                                   cols: 100, rows: 30, environment: ["FRACVIEW_WEIGHTS": ""])
        t.waitFor("a prediction in the header", timeout: 60) { $0.split(separator: "\n")[1].contains("%") }
        let header = String(t.screen.text.split(separator: "\n")[1])
        XCTAssertTrue(header.contains("model \(predicted)"), "header names the model's class by name: \(header)")
        t.send("a")
        t.waitFor(text: "2/64")
        t.send("e")
        t.waitFor(text: "exported 1 reviewed case")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        let row = try XCTUnwrap(try decisions()[cases[0].relativePath])
        XCTAssertEqual(row.predicted, out.predicted, "the stored index is in dataset order")
        for (p, q) in zip(row.probabilities, out.probabilities) { XCTAssertEqual(p, q, accuracy: 1e-4) }
        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        let line = try XCTUnwrap(csv.split(separator: "\n").first { $0.contains((cases[0].relativePath as NSString).lastPathComponent) })
        XCTAssertTrue(line.contains(",\(predicted),"), "CSV names the predicted class: \(line)")
    }

    func testEmptySplitAndUnwritableDatabaseFailBeforeTheUI() throws {
        let root = tmp.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("test/images"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("test/labels"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample + "/data.yaml", toPath: root.appendingPathComponent("data.yaml").path)
        let empty = try run(["review", root.path, "--db", dbPath])
        XCTAssertNotEqual(empty.code, 0)
        XCTAssertTrue(empty.output.contains("no images"), empty.output)
        XCTAssertFalse(empty.output.contains("\u{1B}["), "no escape codes: ncurses never started")

        let bad = try run(["review", sample, "--db", "/proc/fracview-cannot-write/review.sqlite"])
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertTrue(bad.output.contains("review database"), bad.output)
        XCTAssertEqual(bad.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, bad.output)
        XCTAssertFalse(bad.output.contains("\u{1B}["))
    }

    func run(_ args: [String]) throws -> (code: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try PseudoTerminal.binary())
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "FRACVIEW_WEIGHTS")
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// The first sample image's size, from its JPEG header (SOF marker), without depending on the decoder.
enum ImageDecoderSize {
    static func of(caseIndex: Int, sample: String) throws -> (Int, Int) {
        let c = try YOLODataset.open(root: sample).cases(split: "test")[caseIndex]
        let d = try [UInt8](Data(contentsOf: URL(fileURLWithPath: c.imagePath)))
        var i = 2
        while i + 9 < d.count {
            guard d[i] == 0xFF else { i += 1; continue }
            let marker = d[i + 1]
            let len = Int(d[i + 2]) << 8 | Int(d[i + 3])
            if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                return (Int(d[i + 7]) << 8 | Int(d[i + 8]), Int(d[i + 5]) << 8 | Int(d[i + 6]))
            }
            i += 2 + len
        }
        throw MissingFromTheBuild("the JPEG has no SOF marker")
    }
}
