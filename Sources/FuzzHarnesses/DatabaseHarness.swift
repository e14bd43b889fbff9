import Foundation
import Store

/// The review database opener on a mutated SQLite file: read-only (as `export` opens it) with every read and the
/// CSV, then read-write (as `review` opens it: migrations) with a decision recorded and undone.
enum DatabaseHarness {
    static func run(_ bytes: [UInt8]) {
        let path = Scratch.directory + "/review.sqlite"
        for suffix in ["-wal", "-shm", "-journal"] { unlink(path + suffix) }
        _ = Scratch.file("review.sqlite", bytes)
        if let store = try? ReviewStore(path: path, readOnly: true) {
            let classes = (try? store.classes()) ?? []
            _ = try? store.datasetRoot()
            _ = try? store.reviewers()
            if let read = try? store.readDecisions(reviewer: nil) {
                for d in read.decisions { _ = ReviewCSV.cells(d, classes: classes, datasetRoot: nil) }
            }
            _ = try? store.predictionCache.cachedPrediction(imageHash: "0", weightsID: "0")
        }
        if let store = try? ReviewStore(path: path) {
            let d = ReviewDecision(caseID: "test/images/x.jpg", split: "test", reviewer: "fuzz", status: .accepted,
                                   truth: 0, predicted: 0, probabilities: [1], reviewerLabel: nil, note: "",
                                   reviewedAt: Date(timeIntervalSince1970: 0), weightsID: "w")
            _ = try? store.record(d)
            _ = try? store.decisions(reviewer: "fuzz", split: "test")
            _ = try? store.undoLast(reviewer: "fuzz")
            _ = try? store.changeToken()
        }
    }
}
