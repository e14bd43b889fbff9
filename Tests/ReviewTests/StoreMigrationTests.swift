import Foundation
import GRDB
@testable import Store
import XCTest

/// A database written by fracview before schema v2 (Tests/Fixtures/review/make_v1_database.py) opens with today's
/// store: its decisions read back unchanged, gain their class names, and the cache rows read as single-model rows.
final class StoreMigrationTests: XCTestCase {
    func testV1DatabaseMigrates() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-v1-\(UUID().uuidString).sqlite")
        try FileManager.default.copyItem(atPath: RepoPaths.fixtures + "/v1-review.sqlite", toPath: tmp.path)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let store = try ReviewStore(path: tmp.path)
        let rows = try store.decisions(reviewer: "alice", split: "test")
        XCTAssertEqual(rows.count, 2)
        let a = try XCTUnwrap(rows["test/images/a.jpg"])
        XCTAssertEqual(a.status, .relabelled)
        XCTAssertEqual(a.truth, 8)
        XCTAssertEqual(a.predicted, 4)
        XCTAssertEqual(a.reviewerLabel, 9)
        XCTAssertEqual(a.note, "old note")
        XCTAssertEqual(a.probabilities[4], 0.5)
        let cached = try XCTUnwrap(try store.predictionCache.cachedPrediction(imageHash: "ff00", weightsID: "abc123"))
        XCTAssertEqual(cached.membership, .untracked)

        let queue = try DatabaseQueue(path: tmp.path)
        let names = try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT truth_class, predicted_class, reviewer_class FROM decision WHERE case_id = 'test/images/a.jpg'")
        }
        XCTAssertEqual(names?["truth_class"] as String?, "Transverse Displaced")
        XCTAssertEqual(names?["predicted_class"] as String?, "Oblique Displaced")
        XCTAssertEqual(names?["reviewer_class"] as String?, "Transverse")
        let migrations = try queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY 1") }
        XCTAssertEqual(migrations, ["v1", "v2", "v3", "v4", "v5", "v6"])
        // v3: the old rows are reads (role reader, open).
        XCTAssertEqual(a.role, .reader)
        XCTAssertEqual(a.readMode, .open)

        // A new decision stores its names too.
        var d = a
        d.caseID = "test/images/c.jpg"; d.truth = 2; d.predicted = 0; d.reviewerLabel = nil; d.status = .accepted
        try store.record(d)
        let c = try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT truth_class, predicted_class, reviewer_class FROM decision WHERE case_id = 'test/images/c.jpg'")
        }
        XCTAssertEqual(c?["truth_class"] as String?, "Healthy")
        XCTAssertEqual(c?["predicted_class"] as String?, "Comminuted")
        XCTAssertNil(c?["reviewer_class"] as String?)
    }

    /// Issue #26: `export` called a v1 database "damaged" when it is only older. A read-only open reads a private
    /// copy brought up to date, and the file itself is never written.
    func testAnOlderDatabaseExportsReadOnlyAndStaysUntouched() throws {
        let t = TempDir()
        let path = t.path + "/v1.sqlite"
        try FileManager.default.copyItem(atPath: RepoPaths.fixtures + "/v1-review.sqlite", toPath: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let store = try ReviewStore(path: path, readOnly: true)
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").count, 2)
        let run = try Fracview.run(["export", "--db", path, "-o", t.path + "/out.csv", "--all-reviewers"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertFalse(run.output.contains("damaged"), run.output)
        XCTAssertEqual(try String(contentsOfFile: t.path + "/out.csv", encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count, 3)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "the database file is not written")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: t.path).sorted(), ["out.csv", "v1.sqlite"],
                       "no WAL or journal left beside it")
    }
}
