import Basics
@testable import Engine
import Foundation
import GRDB
@testable import Model
@testable import Store
import XCTest

/// A database written by fracview's schema v3 (the release before GRDB's Codable records and the one probability
/// encoding; Tests/Fixtures/review/v3-review.sqlite, written by that version's `ReviewStore` at commit 9bb8a87:
/// see Tests/Fixtures/review/README.md) opens with today's store, migrates to v4, and loses nothing: every
/// decision and its time to the millisecond, the undo history, and the prediction cache, whose probabilities move
/// from Float32 BLOBs to JSON.
final class StoreV3MigrationTests: XCTestCase {
    /// The probabilities the fixture's writer stored: 0.001·(i+1), the rest on class k.
    private func p(_ k: Int) -> [Float] {
        var v = (0..<10).map { Float($0 + 1) / 1000 }
        v[k] = 1 - v.enumerated().filter { $0.offset != k }.map(\.element).reduce(0, +)
        return v
    }

    private func copyOfFixture(_ edit: ((Database) throws -> Void)? = nil) throws -> String {
        let dir = try makeStoreTempDir(self)
        let path = dir + "/v3.sqlite"
        try FileManager.default.copyItem(atPath: RepoPaths.fixtures + "/v3-review.sqlite", toPath: path)
        if let edit { try DatabaseQueue(path: path).write(edit) }
        return path
    }

    func testEveryDecisionReadsBackUnchanged() throws {
        let store = try ReviewStore(path: try copyOfFixture())
        let alice = try store.decisions(reviewer: "alice", role: .reader, split: "test")
        XCTAssertEqual(alice.keys.sorted(), ["test/images/a.jpg", "test/images/b.jpg", "test/images/c.jpg", "test/images/d.jpg"],
                       "e.jpg was undone before the upgrade")
        let a = try XCTUnwrap(alice["test/images/a.jpg"])
        XCTAssertEqual(a.status, .relabelled)
        XCTAssertEqual(a.truth, 7)
        XCTAssertEqual(a.predicted, 7)
        XCTAssertEqual(a.reviewerLabel, 3)
        XCTAssertEqual(a.probabilities, p(7), "bit for bit")
        XCTAssertEqual(ReviewTime.string(a.reviewedAt), "2025-12-01T12:05:05.158Z")
        XCTAssertEqual(a.weightsID, "4a5ef4d3b8c1e2f0")
        XCTAssertEqual(alice["test/images/b.jpg"]?.note, "fracture line? — see lateral view ✓")
        XCTAssertEqual(alice["test/images/c.jpg"]?.note, "=SUM(A1)")
        XCTAssertNil(alice["test/images/d.jpg"]?.truth)
        XCTAssertEqual(alice["test/images/d.jpg"]?.status, .flagged)

        let team = try store.teamDecisions(split: "test")
        XCTAssertEqual(team.count, 7)
        let bob = try XCTUnwrap(team.first { $0.reviewer == "bob" })
        XCTAssertEqual(bob.readMode, .blind)
        let carol = try XCTUnwrap(team.first { $0.reviewer == "carol" })
        XCTAssertEqual(carol.readMode, .blindModel)
        XCTAssertNil(carol.predicted)
        XCTAssertEqual(carol.probabilities, [])
        let adjudication = try XCTUnwrap(team.first { $0.role == .adjudicator })
        XCTAssertEqual(adjudication.note, "settled")
        XCTAssertEqual(adjudication.reviewerLabel, 4)
        XCTAssertEqual(try store.readDecisions(reviewer: nil).problems, [])
    }

    func testTheUndoHistoryWrittenBeforeStillUndoes() throws {
        let store = try ReviewStore(path: try copyOfFixture())
        XCTAssertEqual(try store.undoDepth(reviewer: "alice", role: .reader), 5)
        // The last of alice's reads re-decided a.jpg: undo brings back what it replaced, as v3 wrote it.
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/a.jpg")
        let a = try XCTUnwrap(try store.decisions(reviewer: "alice", role: .reader, split: "test")["test/images/a.jpg"])
        XCTAssertEqual(a.status, .accepted)
        XCTAssertNil(a.reviewerLabel)
        XCTAssertEqual(a.probabilities, p(7))
        XCTAssertEqual(ReviewTime.string(a.reviewedAt), "2025-12-01T12:01:01.130Z")
        // Then d.jpg, which had no decision before: it goes.
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/d.jpg")
        XCTAssertNil(try store.decisions(reviewer: "alice", role: .reader, split: "test")["test/images/d.jpg"])
        // A decision made after the upgrade undoes too.
        var e = a
        e.caseID = "test/images/e.jpg"
        try store.record(e)
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/e.jpg")
        XCTAssertEqual(try store.undoDepth(reviewer: "alice", role: .reader), 3)
    }

    func testHistoryRowsWithoutRoleGetTheDefaults() throws {
        // Rows written before v3 carry no role or read mode in their JSON.
        let path = try copyOfFixture { db in
            try db.execute(sql: "UPDATE history SET before = json_remove(before, '$.role', '$.readMode'), after = json_remove(after, '$.role', '$.readMode')")
        }
        let store = try ReviewStore(path: path)
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/a.jpg")
        let a = try XCTUnwrap(try store.decisions(reviewer: "alice", role: .reader, split: "test")["test/images/a.jpg"])
        XCTAssertEqual(a.status, .accepted)
        XCTAssertEqual(a.role, .reader)
        XCTAssertEqual(a.readMode, .open)
    }

    func testThePredictionCacheMovesToJSONProbabilities() throws {
        let path = try copyOfFixture()
        let store = try ReviewStore(path: path)
        let withCAM = try XCTUnwrap(try store.predictionCache.cachedPrediction(imageHash: String(repeating: "ab", count: 32), weightsID: "4a5ef4d3b8c1e2f0"))
        XCTAssertEqual(withCAM.probabilities, p(7), "bit for bit through BLOB → JSON")
        XCTAssertEqual(withCAM.attention, FeatureMap(width: 3, height: 2, values: [0.1, 0.25, 0.5, 0.75, 0.9, 1]))
        XCTAssertEqual(withCAM.gradcam, FeatureMap(width: 3, height: 2, values: [0, 0.125, 1, 0.5, 0.0625, 0.3]))
        XCTAssertEqual(withCAM.membership, Membership(used: [1, 2, 4], memberCount: 5, seenInTraining: false, signaturesKnown: true))
        let seen = try XCTUnwrap(try store.predictionCache.cachedPrediction(imageHash: String(repeating: "cd", count: 32), weightsID: "4a5ef4d3b8c1e2f0"))
        XCTAssertNil(seen.gradcam)
        XCTAssertTrue(seen.membership.seenInTraining)
        XCTAssertEqual(seen.probabilities, p(2))

        let queue = try DatabaseQueue(path: path)
        let (types, migrations, version) = try queue.read { db in
            (try String.fetchAll(db, sql: "SELECT DISTINCT typeof(probabilities) FROM prediction_cache UNION SELECT DISTINCT typeof(probabilities) FROM decision"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY 1"),
             try Int.fetchOne(db, sql: "PRAGMA user_version"))
        }
        XCTAssertEqual(types, ["text"], "one encoding for probabilities, in both tables")
        XCTAssertEqual(migrations, ["v1", "v2", "v3", "v4", "v5", "v6"])
        XCTAssertEqual(version, 6)
        let declared = try queue.read { db in try db.columns(in: "prediction_cache").first { $0.name == "probabilities" }?.type }
        XCTAssertEqual(declared, "TEXT")
        // Reopening migrates nothing twice.
        _ = try ReviewStore(path: path)
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: String(repeating: "ab", count: 32), weightsID: "4a5ef4d3b8c1e2f0")?.probabilities, p(7))
    }

    func testADamagedCacheEntryIsDroppedByTheMigration() throws {
        let path = try copyOfFixture { db in
            try db.execute(sql: "UPDATE prediction_cache SET probabilities = x'0000803f00' WHERE image_hash LIKE 'cd%'")
        }
        let store = try ReviewStore(path: path)
        XCTAssertNil(try store.predictionCache.cachedPrediction(imageHash: String(repeating: "cd", count: 32), weightsID: "4a5ef4d3b8c1e2f0"))
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: String(repeating: "ab", count: 32), weightsID: "4a5ef4d3b8c1e2f0")?.probabilities, p(7))
        let rows = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM prediction_cache") }
        XCTAssertEqual(rows, 1, "recomputed when next needed, rather than kept unreadable")
    }

    func testTheExportOfTheUpgradedDatabaseNamesEveryClass() throws {
        let path = try copyOfFixture()
        let dir = (path as NSString).deletingLastPathComponent
        let export = try Fracview.run(["export", "--db", path, "-o", dir + "/out.csv", "--reviewer", "alice"])
        XCTAssertEqual(export.status, 0, export.stderr)
        let csv = try String(contentsOfFile: dir + "/out.csv", encoding: .utf8)
        XCTAssertTrue(csv.contains("Spiral") && csv.contains("Linear") && csv.contains("'=SUM(A1)"), csv)
    }
}
