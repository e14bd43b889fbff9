import Basics
import Foundation
import GRDB
@testable import Model
@testable import Store
import XCTest

/// Databases of schema v5, written by that version's own stores (Tests/Fixtures/review/make_v5_fixtures.swift; see
/// Tests/Fixtures/review/README.md): an SQLite file, and a PostgreSQL dump loaded into a fresh database. Today's
/// stores migrate both to v6, where the decision key is a case id (`case_id`, JSON `caseID`) instead of a file path
/// (`relative_path`, `relativePath`), and lose nothing: every decision reads back under the same key, the undo
/// history written before still undoes, and v6 is recorded.
final class StoreV5MigrationTests: XCTestCase {
    private let pacsCase = "https://pacs.example.org/dicom-web/studies/1.2.826.0.1.1/series/1.2.826.0.1.2/instances/1.2.826.0.1.3"

    private func copyOfSQLiteFixture() throws -> String {
        let path = try makeStoreTempDir(self) + "/v5.sqlite"
        try FileManager.default.copyItem(atPath: RepoPaths.fixtures + "/v5-review.sqlite", toPath: path)
        return path
    }

    /// A fresh PostgreSQL database holding the v5 dump (the test skips without a server).
    private func postgresFixture() throws -> String {
        let url = try PostgresTestServer.freshDatabase(self)
        let dump = try String(contentsOfFile: RepoPaths.fixtures + "/v5-review-postgres.sql", encoding: .utf8)
        // Each statement ends with ';' at the end of a line; comment lines are left out.
        let statements = dump.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("--") }
            .joined(separator: "\n").components(separatedBy: ";\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        let connection = try PostgresConnection(url: PostgresURL(url))
        for statement in statements { try connection.execute(statement) }
        XCTAssertEqual(try connection.execute("SELECT COUNT(*) AS n FROM history").value(0, "n"), "8", "the dump is loaded")
        return url
    }

    // MARK: SQLite

    func testTheSQLiteDatabaseMigratesToCaseIDs() throws {
        let path = try copyOfSQLiteFixture()
        let store = try ReviewStore(path: path)
        let (migrations, version, decisionColumns, historyColumns, primaryKey, indexes) = try store.dbWriter.read { db in
            (try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid"),
             try Int.fetchOne(db, sql: "PRAGMA user_version"),
             try db.columns(in: "decision").map(\.name), try db.columns(in: "history").map(\.name),
             try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('decision') WHERE pk > 0 ORDER BY pk"),
             try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"))
        }
        XCTAssertEqual(migrations, ["v1", "v2", "v3", "v4", "v5", "v6"])
        XCTAssertEqual(version, 6)
        XCTAssertTrue(decisionColumns.contains("case_id") && !decisionColumns.contains("relative_path"), "\(decisionColumns)")
        XCTAssertTrue(historyColumns.contains("case_id") && !historyColumns.contains("relative_path"), "\(historyColumns)")
        XCTAssertEqual(primaryKey, ["reviewer", "role", "split", "case_id"], "the primary key follows the renamed column")
        XCTAssertEqual(indexes, ["decision_by_split", "history_by_reviewer"])
        let oldKeys = try store.dbWriter.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM history WHERE json_type(before, '$.relativePath') IS NOT NULL
                  OR json_type(after, '$.relativePath') IS NOT NULL OR json_extract(after, '$.caseID') IS NOT case_id
                  OR (before IS NOT NULL AND json_extract(before, '$.caseID') IS NOT case_id)
                """)
        }
        XCTAssertEqual(oldKeys, 0, "every history decision's key is its caseID")

        try checkDecisionsAndUndo(store) { sql in
            let row = try store.dbWriter.read { db in try Row.fetchOne(db, sql: sql) }
            return ["truth_class", "predicted_class", "reviewer_class"].map { row?[$0] as String? }
        }
        // Reopening migrates nothing twice; the prediction cache of v5 (the localiser's box) still hits.
        let reopened = try ReviewStore(path: path)
        let cached = try XCTUnwrap(try reopened.predictionCache.cachedPrediction(imageHash: String(repeating: "ab", count: 32),
                                                                                 weightsID: "4a5ef4d3b8c1e2f0"))
        XCTAssertEqual(cached.detections, [Detection(box: ImageBox(x0: 0.25, y0: 0.125, x1: 0.75, y1: 0.5), score: 0.875)])
        XCTAssertEqual(cached.membership, Membership(used: [1, 2, 4], memberCount: 5, seenInTraining: false, signaturesKnown: true))
    }

    /// What users see does not change with the key's name: the CSV's columns and paths are the same.
    func testTheExportOfTheMigratedDatabaseIsUnchanged() throws {
        let path = try copyOfSQLiteFixture()
        let out = (path as NSString).deletingLastPathComponent + "/out.csv"
        let export = try Fracview.run(["export", "--db", path, "-o", out, "--all-reviewers", "--no-bom"])
        XCTAssertEqual(export.status, 0, export.stderr)
        let lines = try String(contentsOfFile: out, encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.first?.hasPrefix("image_path,split,ground_truth,prediction,confidence,p_Comminuted,"), true, lines.first ?? "")
        XCTAssertEqual(lines.count, 1 + 7)
        XCTAssertTrue(lines.contains { $0.hasPrefix("/data/hbfmid/test/images/a.jpg,test,Spiral,Spiral,") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix(pacsCase + ",pacs,unlabelled,Comminuted,") }, "a PACS case's key as it is")
    }

    // MARK: PostgreSQL

    func testThePostgresDatabaseMigratesToCaseIDs() throws {
        let url = try postgresFixture()
        let store = try PostgresReviewStore(url: PostgresURL(url))
        let connection = try PostgresConnection(url: PostgresURL(url))
        func strings(_ sql: String) throws -> [String] { try connection.execute(sql).values.compactMap { $0[0] } }
        XCTAssertEqual(try strings("SELECT identifier FROM schema_migrations ORDER BY identifier"), ["v1", "v2", "v3", "v4", "v5", "v6"])
        for table in ["decision", "history"] {
            let columns = try strings("SELECT column_name FROM information_schema.columns WHERE table_name = '\(table)'")
            XCTAssertTrue(columns.contains("case_id") && !columns.contains("relative_path"), "\(table): \(columns)")
        }
        XCTAssertEqual(Set(try strings("""
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = 'decision'::regclass AND i.indisprimary
            """)), ["reviewer", "role", "split", "case_id"], "the primary key follows the renamed column")
        XCTAssertEqual(try strings("""
            SELECT COUNT(*) FROM history WHERE before::jsonb ? 'relativePath' OR after::jsonb ? 'relativePath'
              OR after::jsonb ->> 'caseID' IS DISTINCT FROM case_id
              OR (before IS NOT NULL AND before::jsonb ->> 'caseID' IS DISTINCT FROM case_id)
            """), ["0"], "every history decision's key is its caseID")

        try checkDecisionsAndUndo(store) { sql in
            let rows = try connection.execute(sql)
            return ["truth_class", "predicted_class", "reviewer_class"].map { rows.value(0, $0) }
        }
        // Reopening migrates nothing twice.
        _ = try PostgresReviewStore(url: PostgresURL(url))
        XCTAssertEqual(try strings("SELECT COUNT(*) FROM schema_migrations"), ["6"])
    }

    // MARK: Both

    /// The fixture's decisions read back under their case ids, and the history written by v5 undoes: a replaced
    /// decision comes back with its class names, a first decision goes. `classNames` runs a query for a row and gives
    /// its truth, predicted and reviewer class names.
    private func checkDecisionsAndUndo(_ store: DecisionStore, classNames: (String) throws -> [String?]) throws {
        let alice = try store.decisions(reviewer: "alice", role: .reader, split: "test")
        XCTAssertEqual(alice.keys.sorted(), ["test/images/a.jpg", "test/images/b.jpg", "test/images/c.jpg"], "e.jpg was undone in v5")
        let a = try XCTUnwrap(alice["test/images/a.jpg"])
        XCTAssertEqual(a.caseID, "test/images/a.jpg")
        XCTAssertEqual(a.status, .relabelled)
        XCTAssertEqual(a.reviewerLabel, 3)
        XCTAssertEqual(ReviewTime.string(a.reviewedAt), "2026-01-15T09:04:04.278Z")
        XCTAssertEqual(alice["test/images/b.jpg"]?.note, "fracture line? — see lateral view ✓")
        XCTAssertEqual(alice["test/images/c.jpg"]?.note, "=SUM(A1)")
        XCTAssertEqual(try store.decisions(reviewer: "alice", role: .reader, split: "pacs")[pacsCase]?.note, "from the PACS")
        let team = try store.teamDecisions(split: "test")
        XCTAssertEqual(team.count, 6)
        XCTAssertEqual(team.first { $0.reviewer == "carol" }?.readMode, .blindModel)
        XCTAssertEqual(team.first { $0.role == .adjudicator }?.note, "settled")
        XCTAssertEqual(try store.readDecisions(reviewer: nil).problems, [])

        // The last of alice's reads re-decided a.jpg: undo brings back what it replaced, as v5 wrote it.
        let aRow = "SELECT truth_class, predicted_class, reviewer_class FROM decision WHERE case_id = 'test/images/a.jpg' "
            + "AND reviewer = 'alice' AND role = 'reader'"
        XCTAssertEqual(try classNames(aRow), ["Spiral", "Spiral", "Linear"])
        XCTAssertEqual(try store.undoDepth(reviewer: "alice", role: .reader), 5)
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/a.jpg")
        let restored = try XCTUnwrap(try store.decisions(reviewer: "alice", role: .reader, split: "test")["test/images/a.jpg"])
        XCTAssertEqual(restored.status, .accepted)
        XCTAssertNil(restored.reviewerLabel)
        XCTAssertEqual(ReviewTime.string(restored.reviewedAt), "2026-01-15T09:00:00.250Z")
        XCTAssertEqual(try classNames(aRow), ["Spiral", "Spiral", nil], "the restored accept names no corrected class")
        // Then the PACS case, which had no decision before: it goes.
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), pacsCase)
        XCTAssertEqual(try store.decisions(reviewer: "alice", role: .reader, split: "pacs"), [:])
        // A decision made after the upgrade records and undoes under its case id.
        var e = restored
        e.caseID = "test/images/e.jpg"
        try store.record(e)
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/e.jpg")
        XCTAssertEqual(try store.undoDepth(reviewer: "alice", role: .reader), 3)
        XCTAssertEqual(try store.undoLast(reviewer: "bob", role: .reader), "test/images/b.jpg", "bob's history too")
        XCTAssertEqual(try store.teamDecisions(split: "test").count, 5)
    }
}
