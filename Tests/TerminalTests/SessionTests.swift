import Basics
import Datasets
import Foundation
import Imaging
import Inference
import Metrics
import Model
@testable import Review
import Store
@testable import Terminal
import XCTest

/// A 1×1 attention map for predictions whose maps a test does not look at.
let tinyMap = FeatureMap(width: 1, height: 1, values: [0.5])

/// In-memory store with the real store's undo semantics (restores the previous decision of the case), keyed like
/// the real ones by (reviewer, role, split, case). `rows` is the test reviewer's view (the last recorded per case).
final class MemoryStore: DecisionStore {
    private struct Key: Hashable { let reviewer: String, role: ReviewRole, split: String, path: String }
    private var table: [Key: ReviewDecision] = [:]
    private var history: [(Key, ReviewDecision?)] = []
    /// Set to refuse writes as a store whose server went away.
    var lost: String?
    var location: String { "memory" }
    var rows: [String: ReviewDecision] {
        var r: [String: ReviewDecision] = [:]
        for (_, d) in table.sorted(by: { $0.value.reviewedAt < $1.value.reviewedAt }) { r[d.caseID] = d }
        return r
    }
    func setSessionInfo(datasetRoot: String, classes: [String]) throws {}
    func classes() throws -> [String] { [] }
    func datasetRoot() throws -> String? { nil }
    func record(_ d: ReviewDecision) throws {
        if let lost { throw ReviewStoreError(lost, connectionLost: true) }
        let key = Key(reviewer: d.reviewer, role: d.role, split: d.split, path: d.caseID)
        history.append((key, table[key])); table[key] = d
    }
    func undoLast(reviewer: String, role: ReviewRole) throws -> String? {
        guard let i = history.lastIndex(where: { $0.0.reviewer == reviewer && $0.0.role == role }) else { return nil }
        let (key, previous) = history.remove(at: i)
        table[key] = previous
        return key.path
    }
    func undoDepth(reviewer: String, role: ReviewRole) throws -> Int {
        history.filter { $0.0.reviewer == reviewer && $0.0.role == role }.count
    }
    func decisions(reviewer: String, role: ReviewRole, split: String) throws -> [String: ReviewDecision] {
        var r: [String: ReviewDecision] = [:]
        for (k, d) in table where k.reviewer == reviewer && k.role == role && k.split == split { r[k.path] = d }
        return r
    }
    func teamDecisions(split: String) throws -> [ReviewDecision] {
        table.values.filter { $0.split == split }.sorted { $0.reviewedAt < $1.reviewedAt }
    }
    func readDecisions(reviewer: String?) throws -> (decisions: [ReviewDecision], problems: [String]) {
        (table.values.filter { reviewer == nil || $0.reviewer == reviewer }.sorted { $0.reviewedAt < $1.reviewedAt }, [])
    }
    func reviewers() throws -> [String] { Array(Set(table.keys.map(\.reviewer))).sorted() }
    func changeToken() throws -> String { "\(history.count):\(table.count)" }
    func pollConnection() -> (state: StoreConnection, notices: [String]) { (lost.map { .lost($0) } ?? .connected, []) }
}

final class FakePredictions: PredictionSource {
    var states: [PredictionState]
    init(_ states: [PredictionState]) { self.states = states }
    var weightsID: String { "w1" }
    var hasModel: Bool { true }
    func state(at index: Int) -> PredictionState { states[index] }
    func prioritize(index: Int) {}
    var progress: (done: Int, total: Int) { (states.filter { $0 != .pending }.count, states.count) }
    func start() {}
    func stop() {}
}

final class SessionTests: XCTestCase {
    let classes = ["A", "B", "C"]

    func makeCases() -> [DatasetCase] {
        [("a.jpg", GroundTruth.labelled(0)), ("b.jpg", .labelled(1)), ("c.jpg", .unlabelled(reason: "empty label file")),
         ("d.jpg", .labelled(2))].map {
            DatasetCase(imagePath: "/x/" + $0.0, relativePath: "test/images/" + $0.0, split: "test", truth: $0.1,
                        classesInLabelFile: $0.1.classIndex.map { [$0] } ?? [])
        }
    }

    func pred(_ k: Int) -> PredictionState {
        var p: [Float] = [0.1, 0.1, 0.1]; p[k] = 0.8
        return .ready(Prediction(probabilities: p, attention: tinyMap, gradcam: nil))
    }

    func testDecisionsAutoAdvanceUndoAndResume() throws {
        let store = MemoryStore()
        let preds = FakePredictions([pred(0), pred(2), pred(1), .pending])
        let s = try ReviewSession(cases: makeCases(), classes: classes, split: "test", reviewer: "r", store: store, predictions: preds)
        XCTAssertEqual(s.currentIndex, 0)
        try s.decide(.accepted)
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.status, .accepted)
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.predicted, 0)
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.weightsID, "w1")
        XCTAssertEqual(s.currentIndex, 1, "auto-advance")
        try s.decide(.relabelled, label: 2)
        XCTAssertEqual(store.rows["test/images/b.jpg"]?.reviewerLabel, 2)
        // Accepting an unlabelled case is refused; relabelling it works.
        XCTAssertThrowsError(try s.decide(.accepted))
        XCTAssertNil(store.rows["test/images/c.jpg"])
        try s.decide(.relabelled, label: 1)
        XCTAssertEqual(store.rows["test/images/c.jpg"]?.status, .relabelled)
        // Relabelling to the dataset's own label is an accept.
        try s.decide(.relabelled, label: 2)
        XCTAssertEqual(store.rows["test/images/d.jpg"]?.status, .accepted)
        XCTAssertEqual(s.counts, ReviewSession.Counts(reviewed: 4, accepted: 2, flagged: 0, relabelled: 2))
        try s.undo()
        XCTAssertNil(store.rows["test/images/d.jpg"])
        XCTAssertEqual(s.currentIndex, 3, "undo shows the case it affected")
        // A new session resumes at the first case without a decision.
        let again = try ReviewSession(cases: makeCases(), classes: classes, split: "test", reviewer: "r", store: store, predictions: preds)
        XCTAssertEqual(again.currentIndex, 3)
    }

    func testNoteOnUndecidedCaseFlagsIt() throws {
        let store = MemoryStore()
        let s = try ReviewSession(cases: makeCases(), classes: classes, split: "test", reviewer: "r", store: store,
                                  predictions: FakePredictions(Array(repeating: .pending, count: 4)))
        try s.setNote("look at the ulna")
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.status, .flagged)
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.note, "look at the ulna")
        XCTAssertEqual(s.currentIndex, 0, "a note does not advance")
        try s.setNote("second")
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.note, "second")
        XCTAssertEqual(store.rows["test/images/a.jpg"]?.status, .flagged)
    }

    func testConfusionMatrixFiltersAndReviewedLabels() throws {
        let store = MemoryStore()
        let s = try ReviewSession(cases: makeCases(), classes: classes, split: "test", reviewer: "r", store: store,
                                  predictions: FakePredictions([pred(0), pred(2), pred(1), .pending]))
        var m = s.confusionMatrix()
        XCTAssertEqual(m[0][0], 1)
        XCTAssertEqual(m[1][2], 1)
        XCTAssertEqual(m[3][1], 1, "unlabelled row")
        XCTAssertEqual(m.total, 3, "pending cases are not counted")
        XCTAssertEqual(m.labelled.total, 2, "the labelled cases are a ConfusionMatrix of their own")
        s.setFilter(.disagreements)
        XCTAssertEqual(s.visible, [1, 2])
        s.setFilter(.cell(truth: 1, predicted: 2))
        XCTAssertEqual(s.visible, [1])
        s.setFilter(.all)
        XCTAssertEqual(s.currentIndex, 1, "clearing the filter keeps the case")
        try s.decide(.relabelled, label: 2) // b: 1 → 2, the model said 2
        s.matrixLabels = .reviewed
        m = s.confusionMatrix()
        XCTAssertEqual(m[2][2], 1)
        XCTAssertEqual(m.total, 1, "only reviewed cases count")
        s.setFilter(.unreviewed)
        XCTAssertFalse(s.visible.contains(1))
    }

    func testAutoAdvanceInsideAFilterMovesToTheNextMatch() throws {
        let store = MemoryStore()
        let s = try ReviewSession(cases: makeCases(), classes: classes, split: "test", reviewer: "r", store: store,
                                  predictions: FakePredictions([pred(0), pred(2), pred(1), pred(0)]))
        s.setFilter(.unreviewed)
        try s.decide(.accepted)
        XCTAssertEqual(s.visible, [1, 2, 3])
        XCTAssertEqual(s.currentIndex, 1)
    }

    func testAuditHeadlineCountsUnlabelledCasesAndLabelProblems() throws {
        let preds = FakePredictions(Array(repeating: .pending, count: 4))
        let s = try ReviewSession(cases: makeCases(), classes: classes, split: "test", reviewer: "r", store: MemoryStore(),
                                  predictions: preds, labelProblems: 2)
        XCTAssertTrue(s.hasUnlabelled)
        XCTAssertEqual(s.audit.labelProblems, 2)
        XCTAssertEqual(s.auditHeadline, "1 unlabelled · 2 label problems")
        let labelled = makeCases().filter { $0.truth.classIndex != nil }
        let clean = try ReviewSession(cases: labelled, classes: classes, split: "test", reviewer: "r", store: MemoryStore(),
                                      predictions: FakePredictions(Array(repeating: .pending, count: 3)))
        XCTAssertFalse(clean.hasUnlabelled)
        XCTAssertNil(clean.auditHeadline, "no label problems by default")
    }

    /// The one xterm-256 mapping (Curses'), for terminals without truecolor.
    func testXterm256Mapping() {
        XCTAssertEqual(Curses.xterm256(RGB(0, 0, 0)), 16)
        XCTAssertEqual(Curses.xterm256(RGB(255, 255, 255)), 231)
        XCTAssertEqual(Curses.xterm256(RGB(255, 0, 0)), 196)
        XCTAssertEqual(Curses.xterm256(RGB(128, 128, 128)), 244)
        // A dark red tint stays red (per-channel rounding made it purple).
        let dim = Curses.xterm256(RGB(90, 20, 20))
        XCTAssertTrue([52, 88].contains(dim), "\(dim)")
    }

    func testHelpKeyColumnFitsTheWidestKey() {
        let help = HelpOverlay(keys: .standard)
        let widest = help.sections.flatMap { $0.1 }.map { $0.0.count }.max()
        XCTAssertEqual(widest, "q Ctrl-C".count)
        XCTAssertEqual(help.keyWidth, widest.map { $0 + 1 }, "a key never runs into its description")
        XCTAssertEqual(help.sections.map(\.0), KeyTable.groups)
        XCTAssertEqual(help.sections.flatMap(\.1).count, KeyTable.standard.bindings.count, "every binding is in the help")
    }

    func testSanitizingAndTerminalReplies() {
        // Terminal draws names through Review's sanitiser.
        XCTAssertEqual(TerminalSafeText.clean("a\u{1B}[31mb\u{07}c\u{9B}d\u{202E}"), "a?[31mb?c?d?")
        XCTAssertTrue(TerminalCapabilities.replyAdvertisesSixel("\u{1B}[?62;4;6;22c"))
        XCTAssertFalse(TerminalCapabilities.replyAdvertisesSixel("\u{1B}[?62;6;22c"))
        XCTAssertFalse(TerminalCapabilities.replyAdvertisesSixel("\u{1B}[?64;1;2;14c"))
        XCTAssertFalse(TerminalCapabilities.replyAdvertisesSixel(""))
        XCTAssertEqual(TerminalCapabilities.parseCellSizeReply("\u{1B}[6;20;10t\u{1B}[?62c"), CellSize(width: 10, height: 20))
        XCTAssertNil(TerminalCapabilities.parseCellSizeReply("\u{1B}[?62c"))
        XCTAssertEqual(TerminalCapabilities.plausibleCellSize(cols: 80, rows: 24, xpixel: 800, ypixel: 480), CellSize(width: 10, height: 20))
        XCTAssertNil(TerminalCapabilities.plausibleCellSize(cols: 80, rows: 24, xpixel: 0, ypixel: 0))
        XCTAssertNil(TerminalCapabilities.plausibleCellSize(cols: 80, rows: 24, xpixel: 100, ypixel: 480))
    }

    func testLayoutsNeverOverlapAndDegrade() {
        for cols in stride(from: 10, through: 240, by: 7) {
            for rows in stride(from: 3, through: 80, by: 3) {
                let l = ScreenLayout(cols: cols, rows: rows, classCount: 10, wantsImage: true)
                if l.tooSmall { continue }
                let rects = [l.header, l.image, l.bars, l.matrix, l.status].compactMap { $0 }.filter { !$0.isEmpty }
                for r in rects {
                    XCTAssertGreaterThanOrEqual(r.row, 0); XCTAssertLessThanOrEqual(r.bottom, rows, "\(cols)x\(rows)")
                    XCTAssertGreaterThanOrEqual(r.col, 0); XCTAssertLessThanOrEqual(r.right, cols, "\(cols)x\(rows)")
                }
                for (i, a) in rects.enumerated() {
                    for b in rects[(i + 1)...] {
                        let overlap = a.row < b.bottom && b.row < a.bottom && a.col < b.right && b.col < a.right
                        XCTAssertFalse(overlap, "\(cols)x\(rows): \(a) overlaps \(b)")
                    }
                }
            }
        }
        let full = ScreenLayout(cols: 80, rows: 24, classCount: 10, wantsImage: true)
        XCTAssertNotNil(full.image)
        XCTAssertEqual(full.bars?.height, 10)
        let small = ScreenLayout(cols: 40, rows: 12, classCount: 10, wantsImage: true)
        XCTAssertNil(small.image)
        XCTAssertTrue(small.imageTooSmall)
        XCTAssertNotNil(small.bars)
    }

    func testImageFitKeepsAspect() {
        let (w, h) = ImageRenderer.fitted(width: 640, height: 480, maxWidth: 400, maxHeight: 400)
        XCTAssertEqual(w, 400); XCTAssertEqual(h, 300)
        // Half blocks in an 8×20 cell are 8×10: 0.8 as wide as high, so a square image needs more columns than rows.
        let (bw, bh) = ImageRenderer.fitted(width: 640, height: 640, maxWidth: 100, maxHeight: 40, pixelAspect: 0.8)
        XCTAssertEqual(bh, 40); XCTAssertEqual(bw, 50)
        XCTAssertEqual(classTags(["Oblique Displaced", "Oblique", "Transverse Displaced", "Transverse"]), ["ODb", "Obl", "TDr", "Tra"])
    }
}

/// "Likely label errors first": held-out labelled cases ranked by 1 − p(label), from the top; decisions keep the place.
final class LabelErrorOrderTests: XCTestCase {
    func testRankingOrderSuggestionAndAdvance() throws {
        let classes = ["A", "B", "C"]
        let cases = ["a", "b", "c", "d", "e"].enumerated().map { i, n in
            DatasetCase(imagePath: "/x/\(n).jpg", relativePath: "test/images/\(n).jpg", split: "test",
                        truth: i == 4 ? .unlabelled(reason: "empty label file") : .labelled(i % 3), classesInLabelFile: [])
        }
        func ready(_ p: [Float], seen: Bool = false) -> PredictionState {
            .ready(Prediction(probabilities: p, attention: tinyMap, gradcam: nil,
                                  membership: Membership(used: [0], memberCount: 5, seenInTraining: seen, signaturesKnown: true)))
        }
        // p(label): a 0.7, b 0.1, c 0.3, d (seen) 0.05, e unlabelled.
        let preds = FakePredictions([ready([0.7, 0.2, 0.1]), ready([0.8, 0.1, 0.1]), ready([0.3, 0.4, 0.3]),
                                     ready([0.05, 0.9, 0.05], seen: true), ready([0.3, 0.3, 0.4])])
        let s = try ReviewSession(cases: cases, classes: classes, split: "test", reviewer: "r", store: MemoryStore(), predictions: preds)
        s.moveTo(caseIndex: 2)
        s.setFilter(.likelyLabelErrors)
        XCTAssertEqual(s.visible, [1, 2, 0], "most likely error first; seen and unlabelled cases left out")
        XCTAssertEqual(s.currentIndex, 1, "a ranking starts at its top")
        XCTAssertEqual(s.labelIssues[1]?.suggested, 0)
        try s.decide(.relabelled, label: 0)
        XCTAssertEqual(s.currentIndex, 2, "after a decision the next-ranked case, not the top again")
        XCTAssertEqual(s.matrixSeenCount, 1)
        XCTAssertEqual(s.confusionMatrix().total, 4, "the seen case is left out of the matrix")
        s.matrixIncludesSeen = true
        XCTAssertEqual(s.confusionMatrix().total, 5)
    }
}
