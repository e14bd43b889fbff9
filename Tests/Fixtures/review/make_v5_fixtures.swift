// Writes the schema-v5 review database fixtures with fracview's own stores at commit 938af38 (the last commit of
// schema v5): Tests/Fixtures/review/v5-review.sqlite (SQLite) and, given a PostgreSQL URL of an empty database, the
// same decisions there (dumped to v5-review-postgres.sql afterwards). How it was run: Tests/Fixtures/review/README.md.
import Foundation
import Model
import Store

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fatalError("usage: makefixture OUT.sqlite [postgres://…]") }
let classes = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique", "Segmental", "Spiral",
               "Transverse Displaced", "Transverse"]
/// 0.001·(i+1) for every class, the rest on class k.
func p(_ k: Int) -> [Float] {
    var v = (0..<10).map { Float($0 + 1) / 1000 }
    v[k] = 1 - v.enumerated().filter { $0.offset != k }.map(\.element).reduce(0, +)
    return v
}
// 2026-01-15T09:00:00.250Z, then steps of 61.007 s.
var step = 0
func next() -> Date { defer { step += 1 }; return Date(timeIntervalSince1970: 1_768_467_600.250 + 61.007 * Double(step)) }
let pacsCase = "https://pacs.example.org/dicom-web/studies/1.2.826.0.1.1/series/1.2.826.0.1.2/instances/1.2.826.0.1.3"
func d(_ caseKey: String, _ status: ReviewStatus, truth: Int?, predicted: Int?, label: Int? = nil, note: String = "",
       reviewer: String = "alice", role: ReviewRole = .reader, mode: ReadMode = .open, split: String = "test") -> ReviewDecision {
    ReviewDecision(relativePath: caseKey, split: split, reviewer: reviewer, status: status, truth: truth,
                   predicted: predicted, probabilities: predicted.map(p) ?? [], reviewerLabel: label, note: note,
                   reviewedAt: next(), weightsID: "4a5ef4d3b8c1e2f0", role: role, readMode: mode)
}

func write(_ store: DecisionStore) throws {
    step = 0
    try store.setSessionInfo(datasetRoot: "/data/hbfmid", classes: classes)
    try store.record(d("test/images/a.jpg", .accepted, truth: 7, predicted: 7))
    try store.record(d("test/images/b.jpg", .flagged, truth: 2, predicted: 8, note: "fracture line? — see lateral view ✓"))
    try store.record(d("test/images/c.jpg", .relabelled, truth: 9, predicted: 8, label: 8, note: "=SUM(A1)"))
    try store.record(d(pacsCase, .flagged, truth: nil, predicted: 0, note: "from the PACS", split: "pacs"))
    try store.record(d("test/images/a.jpg", .relabelled, truth: 7, predicted: 7, label: 3))
    try store.record(d("test/images/e.jpg", .accepted, truth: 1, predicted: 1))
    try store.undoLast(reviewer: "alice")
    try store.record(d("test/images/b.jpg", .relabelled, truth: 2, predicted: 8, label: 4, reviewer: "bob", mode: .blind))
    try store.record(d("test/images/b.jpg", .relabelled, truth: 2, predicted: nil, label: 4, reviewer: "carol", mode: .blindModel))
    try store.record(d("test/images/b.jpg", .relabelled, truth: 2, predicted: 8, label: 4, note: "settled", role: .adjudicator))
}

do {
    let store = try ReviewStore(path: arguments[1])
    try write(store)
    // One cached prediction with every v5 column: the localiser's box and no crop stage.
    let attention = FeatureMap(width: 3, height: 2, values: [0.1, 0.25, 0.5, 0.75, 0.9, 1])
    let cam = FeatureMap(width: 3, height: 2, values: [0, 0.125, 1, 0.5, 0.0625, 0.3])
    var prediction = Prediction(probabilities: p(7), attention: attention, gradcam: cam,
                                membership: Membership(used: [1, 2, 4], memberCount: 5, seenInTraining: false, signaturesKnown: true))
    prediction.detections = [Detection(box: ImageBox(x0: 0.25, y0: 0.125, x1: 0.75, y1: 0.5), score: 0.875)]
    try store.storePrediction(prediction, imageHash: String(repeating: "ab", count: 32), weightsID: "4a5ef4d3b8c1e2f0")
    if arguments.count >= 3 { try write(try StoreOpening.open(arguments[2])) }
} catch {
    FileHandle.standardError.write(Data("makefixture: \(error)\n".utf8))
    exit(1)
}
