import Foundation
import GRDB
@testable import Store
import XCTest

/// The rules every decision store keeps, checked on both: SQLite (a temp file) and PostgreSQL (a fresh database on
/// the test server; skipped without one, failed under CI).
final class StoreContractTests: XCTestCase {
    private func sqlite() throws -> DecisionStore {
        let dir = try makeStoreTempDir(self)
        return try StoreOpening.open(dir + "/review.sqlite")
    }

    private func postgres() throws -> DecisionStore {
        try StoreOpening.open(try PostgresTestServer.freshDatabase(self))
    }

    /// Runs the body on SQLite, then on PostgreSQL (whose absence skips only after SQLite has been checked).
    private func onBothStores(_ body: (DecisionStore, () throws -> DecisionStore) throws -> Void) throws {
        let dir = try makeStoreTempDir(self)
        let sqlitePath = dir + "/review.sqlite"
        let first = try StoreOpening.open(sqlitePath)
        try first.setSessionInfo(datasetRoot: "/data", classes: sampleClasses)
        try body(first, { try StoreOpening.open(sqlitePath) })
        let url = try PostgresTestServer.freshDatabase(self)
        let pg = try StoreOpening.open(url)
        try pg.setSessionInfo(datasetRoot: "/data", classes: sampleClasses)
        try body(pg, { try StoreOpening.open(url) })
    }

    func testRolesAndReadModesRoundTrip() throws {
        try onBothStores { store, _ in
            var read = sampleDecision(reviewer: "alice", status: .relabelled, truth: 2, reviewerLabel: 7)
            read.readMode = .blind
            var adjudication = sampleDecision(reviewer: "alice", status: .accepted, truth: 2)
            adjudication.role = .adjudicator
            try store.record(read)
            try store.record(adjudication)
            XCTAssertEqual(try store.decisions(reviewer: "alice", role: .reader, split: "test")["test/images/a.jpg"], read)
            XCTAssertEqual(try store.decisions(reviewer: "alice", role: .adjudicator, split: "test")["test/images/a.jpg"],
                           adjudication, "a reader and an adjudicator row of one person are two rows")
            XCTAssertEqual(try store.teamDecisions(split: "test").count, 2, store.location)
            XCTAssertEqual(read.decidedClass, 7)
            XCTAssertEqual(adjudication.decidedClass, 2)
        }
    }

    func testTwoReviewersOnOneCaseBothKeepTheirRowsAndUndoTouchesOnlyOwnRows() throws {
        try onBothStores { store, reopen in
            let other = try reopen() // a second client: another workstation
            try store.record(sampleDecision(reviewer: "alice", status: .accepted))
            try other.record(sampleDecision(reviewer: "bob", status: .relabelled, reviewerLabel: 5))
            try store.record(sampleDecision("test/images/b.jpg", reviewer: "alice", status: .flagged))
            XCTAssertEqual(Set(try store.teamDecisions(split: "test").map(\.reviewer)), ["alice", "bob"])
            // bob undoes: only his row goes, alice's two stay.
            XCTAssertEqual(try other.undoLast(reviewer: "bob", role: .reader), "test/images/a.jpg")
            XCTAssertNil(try other.undoLast(reviewer: "bob", role: .reader))
            XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").count, 2)
            XCTAssertEqual(try store.decisions(reviewer: "bob", split: "test").count, 0)
            // alice as adjudicator has nothing to undo, and her reader rows are untouched by trying.
            XCTAssertNil(try store.undoLast(reviewer: "alice", role: .adjudicator))
            XCTAssertEqual(try store.undoDepth(reviewer: "alice", role: .reader), 2)
            // Undo restores a replaced decision, not just deletes.
            try store.record(sampleDecision(reviewer: "alice", status: .relabelled, reviewerLabel: 9, at: 1_764_000_100))
            try store.undoLast(reviewer: "alice", role: .reader)
            XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test")["test/images/a.jpg"]?.status, .accepted)
        }
    }

    func testAnotherClientsWriteChangesTheTokenAndIsSeen() throws {
        try onBothStores { store, reopen in
            let other = try reopen()
            let before = try store.changeToken()
            try other.record(sampleDecision(reviewer: "bob"))
            XCTAssertNotEqual(try store.changeToken(), before)
            XCTAssertEqual(try store.decisions(reviewer: "bob", split: "test").count, 1)
            XCTAssertEqual(store.pollConnection().state, .connected)
        }
    }

    func testConcurrentWritersOnTheSameCasesLoseNothing() throws {
        try onBothStores { _, reopen in
            let errors = StoreTestErrors()
            let readers = ["alice", "bob", "carol", "dave"]
            let stores = try readers.map { _ in try reopen() }
            DispatchQueue.concurrentPerform(iterations: readers.count) { r in
                for i in 0..<40 {
                    do {
                        try stores[r].record(sampleDecision("test/images/c\(i % 20).jpg", reviewer: readers[r],
                                                            status: i % 3 == 0 ? .flagged : .accepted,
                                                            at: 1_764_000_000 + Double(i)))
                    } catch { errors.append("\(error)") }
                }
            }
            XCTAssertEqual(errors.all, [])
            let all = try stores[0].teamDecisions(split: "test")
            XCTAssertEqual(all.count, readers.count * 20, "every reader keeps one row per case")
            for r in readers { XCTAssertEqual(try stores[0].undoDepth(reviewer: r, role: .reader), 40) }
        }
    }

    // MARK: PostgreSQL only

    func testPostgresHasTheSameColumnsAsSQLite() throws {
        let sqlite = try self.sqlite() as! ReviewStore
        let url = try PostgresTestServer.freshDatabase(self)
        _ = try postgres(url)
        let connection = try PostgresConnection(url: PostgresURL(url))
        for table in ["session", "decision", "history"] {
            let pgColumns = Set(try connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table]).values.compactMap { $0[0] })
            let sqliteColumns = Set(try sqlite.dbWriter.read { db in try db.columns(in: table).map(\.name) })
            XCTAssertEqual(pgColumns, sqliteColumns, table)
        }
        let migrations = try connection.execute("SELECT identifier FROM schema_migrations ORDER BY identifier").values.compactMap { $0[0] }
        XCTAssertEqual(migrations, ["v1", "v2", "v3", "v4", "v5", "v6"])
        let sqliteMigrations = try sqlite.dbWriter.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        XCTAssertEqual(migrations, sqliteMigrations, "the same migrations in both")
        // Reopening migrates nothing twice; a database from a newer fracview is refused.
        _ = try postgres(url)
        try connection.execute("INSERT INTO schema_migrations VALUES ('v9')")
        XCTAssertThrowsError(try postgres(url)) { XCTAssertTrue("\($0)".contains("newer fracview"), "\($0)") }
    }

    private func postgres(_ url: String) throws -> PostgresReviewStore { try PostgresReviewStore(url: PostgresURL(url)) }

    /// Issue #23 §4: an undo on PostgreSQL restored the decision but left its class-name columns at the undone
    /// values (SQLite rewrote them). Both stores now name the restored classes, the truth's and the model's too, and
    /// clear the reviewer's when the restored decision has no corrected label.
    func testUndoRestoresTheClassNameColumnsInBothStores() throws {
        let sqlite = try self.sqlite() as! ReviewStore
        try checkUndoRestoresTheClassNames(sqlite) { sql in
            let row = try sqlite.dbWriter.read { db in try Row.fetchOne(db, sql: sql) }
            return ["truth_class", "predicted_class", "reviewer_class"].map { row?[$0] as String? }
        }
        let url = try PostgresTestServer.freshDatabase(self)
        let connection = try PostgresConnection(url: PostgresURL(url))
        try checkUndoRestoresTheClassNames(try postgres(url)) { sql in
            let rows = try connection.execute(sql)
            return ["truth_class", "predicted_class", "reviewer_class"].map { rows.value(0, $0) }
        }
    }

    /// `classNames` runs a query for the case's row and gives its truth, predicted and reviewer class names.
    private func checkUndoRestoresTheClassNames(_ store: DecisionStore, classNames: (String) throws -> [String?]) throws {
        try store.setSessionInfo(datasetRoot: "/d", classes: sampleClasses)
        let sql = "SELECT truth_class, predicted_class, reviewer_class FROM decision WHERE case_id = 'test/images/u.jpg'"
        try store.record(sampleDecision("test/images/u.jpg", status: .relabelled, truth: 0, predicted: 2, reviewerLabel: 7))
        try store.record(sampleDecision("test/images/u.jpg", status: .relabelled, truth: 0, predicted: 2, reviewerLabel: 3))
        try store.record(sampleDecision("test/images/u.jpg", status: .accepted, truth: 0, predicted: 5))
        XCTAssertEqual(try classNames(sql), [sampleClasses[0], sampleClasses[5], nil], store.location)
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/u.jpg")
        XCTAssertEqual(try classNames(sql), [sampleClasses[0], sampleClasses[2], sampleClasses[3]],
                       "\(store.location): the restored relabel's names, the model's too")
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/u.jpg")
        XCTAssertEqual(try classNames(sql), [sampleClasses[0], sampleClasses[2], sampleClasses[7]], store.location)
        XCTAssertEqual(try store.undoLast(reviewer: "alice", role: .reader), "test/images/u.jpg")
        XCTAssertEqual(try store.allDecisions(reviewer: nil), [], "\(store.location): the first decision's undo removes the row")
    }

    // MARK: One schema (issue #23)

    /// Both stores apply `StoreMigrations`, one list: the same ids in the same order, and after opening a fresh
    /// store the same migrations applied. (The PostgreSQL half skips without a server.)
    func testBothStoresApplyTheOneMigrationList() throws {
        let ids = StoreMigrations.all.map(\.id)
        XCTAssertEqual(ids, (1...StoreMigrations.schemaVersion).map { "v\($0)" }, "v1…vN, the last one the schema version")
        XCTAssertEqual(ReviewDatabase.migrator.migrations, ids, "SQLite registers every migration, in order")
        XCTAssertEqual(PostgresReviewStore.migrations.map(\.id), ids, "PostgreSQL applies every migration, in order")

        let sqlite = try self.sqlite() as! ReviewStore
        let (sqliteApplied, version) = try sqlite.dbWriter.read { db in
            (try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid"),
             try Int.fetchOne(db, sql: "PRAGMA user_version"))
        }
        XCTAssertEqual(sqliteApplied, ids)
        XCTAssertEqual(version, StoreMigrations.schemaVersion)

        let url = try PostgresTestServer.freshDatabase(self)
        _ = try postgres(url)
        let pgApplied = try PostgresConnection(url: PostgresURL(url))
            .execute("SELECT identifier FROM schema_migrations").values.compactMap { $0[0] }
        let byNumber = { (ids: [String]) in ids.sorted { Int($0.dropFirst()) ?? 0 < Int($1.dropFirst()) ?? 0 } }
        XCTAssertEqual(byNumber(pgApplied), byNumber(sqliteApplied), "the same migrations applied in both")
    }

    /// PostgreSQL's rows are `ReviewDecision`'s Codable record, in the columns SQLite uses: what the encoder writes the
    /// decoder reads back, and a value that is not its type is an error, never another value.
    func testPostgresRowsAreTheDecisionsCodableRecord() throws {
        var d = sampleDecision("https://pacs/studies/1/series/2/instances/3", status: .relabelled, truth: nil, reviewerLabel: 4,
                               note: "line? — ✓ \"quoted\", 'single'")
        d.role = .adjudicator
        d.readMode = .blindModel
        let columns = try PostgresRowEncoder.columns(d)
        XCTAssertEqual(columns.map(\.column), ["case_id", "split", "reviewer", "status", "truth", "predicted", "probabilities",
                                               "reviewer_label", "note", "reviewed_at", "weights_id", "role", "read_mode"])
        var values = Dictionary(uniqueKeysWithValues: columns.map { ($0.column, $0.value) })
        XCTAssertEqual(values["truth"], .some(nil), "a nil label is NULL, so that an upsert clears it")
        XCTAssertEqual(values["reviewed_at"], ReviewTime.string(d.reviewedAt))
        XCTAssertEqual(values["read_mode"], "blind-model")
        XCTAssertEqual(values["probabilities"], try StoreJSON.string(d.probabilities), "probabilities are JSON text, as in SQLite")
        XCTAssertEqual(try PostgresRowDecoder.decode(ReviewDecision.self, values: values), d)
        var nonFinite = d
        nonFinite.probabilities[3] = .nan
        let back = try PostgresRowDecoder.decode(ReviewDecision.self,
                                                 values: Dictionary(uniqueKeysWithValues: try PostgresRowEncoder.columns(nonFinite).map { ($0.column, $0.value) }))
        XCTAssertTrue(back.probabilities[3].isNaN, "non-finite numbers as StoreJSON writes them")
        // The class-name columns PostgreSQL reads beside the record are ignored by it.
        values["truth_class"] = "Healthy"
        XCTAssertNoThrow(try PostgresRowDecoder.decode(ReviewDecision.self, values: values))
        for (column, bad) in [("predicted", "2.5"), ("predicted", "two"), ("status", "maybe"), ("reviewed_at", "yesterday"),
                              ("probabilities", "{not json"), ("role", nil)] as [(String, String?)] {
            var damaged = values
            damaged[column] = .some(bad)
            XCTAssertThrowsError(try PostgresRowDecoder.decode(ReviewDecision.self, values: damaged), "\(column) = \(bad ?? "NULL")")
        }
        var missing = values
        missing["note"] = nil
        XCTAssertThrowsError(try PostgresRowDecoder.decode(ReviewDecision.self, values: missing), "a missing column")
    }

    /// A damaged PostgreSQL row is named and left out, and one with damaged probabilities is kept without them, as in
    /// SQLite; the other rows are read.
    func testADamagedPostgresRowIsNamedAndLeftOut() throws {
        let url = try PostgresTestServer.freshDatabase(self)
        let store = try postgres(url)
        try store.setSessionInfo(datasetRoot: "/d", classes: sampleClasses)
        for i in 0..<3 { try store.record(sampleDecision("test/images/\(i).jpg", at: 1_764_000_000 + Double(i))) }
        let connection = try PostgresConnection(url: PostgresURL(url))
        try connection.execute("UPDATE decision SET probabilities = '{not json' WHERE case_id = 'test/images/1.jpg'")
        try connection.execute("UPDATE decision SET reviewed_at = 'yesterday' WHERE case_id = 'test/images/2.jpg'")
        let read = try store.readDecisions(reviewer: nil)
        XCTAssertEqual(read.decisions.map(\.caseID), ["test/images/0.jpg", "test/images/1.jpg"])
        XCTAssertEqual(read.decisions[1].probabilities, [])
        XCTAssertEqual(read.problems.sorted(), [
            "review database row test/images/1.jpg (reviewer alice): its probabilities are not a list of numbers; kept without them",
            "review database row test/images/2.jpg (reviewer alice): damaged; left out",
        ])
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").keys.sorted(), ["test/images/0.jpg", "test/images/1.jpg"])
    }

    func testPostgresRefusesAnotherClassListAndForeignTables() throws {
        let url = try PostgresTestServer.freshDatabase(self)
        let store = try postgres(url)
        try store.setSessionInfo(datasetRoot: "/a", classes: sampleClasses)
        try store.setSessionInfo(datasetRoot: "/b", classes: sampleClasses) // another machine, same classes
        XCTAssertThrowsError(try store.setSessionInfo(datasetRoot: "/c", classes: Array(sampleClasses.reversed()))) {
            XCTAssertTrue("\($0)".contains("use another database"), "\($0)")
        }
        let other = try PostgresTestServer.freshDatabase(self)
        try PostgresConnection(url: PostgresURL(other)).execute("CREATE TABLE decision (x INTEGER)")
        XCTAssertThrowsError(try postgres(other)) { XCTAssertTrue("\($0)".contains("did not create"), "\($0)") }
    }

    func testPasswordsNeverAppearInMessages() throws {
        let base = try PostgresTestServer.requireServer()
        let wrong = base.replacingOccurrences(of: "fracview-test-only", with: "s3cret-wrong-pw")
        XCTAssertThrowsError(try StoreOpening.open(wrong)) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("s3cret-wrong-pw"), text)
            XCTAssertTrue(text.contains("postgres://fracview@127.0.0.1"), text)
            XCTAssertTrue((error as? ReviewStoreError)?.connectionLost ?? false)
            XCTAssertFalse(text.contains("\n"))
        }
        XCTAssertEqual(PostgresURL("postgresql://u:p%40ss@h:5/db?sslmode=require&password=x").display,
                       "postgresql://u@h:5/db?sslmode=require")
        XCTAssertEqual(PostgresURL("postgres://h/db").display, "postgres://h/db")
        XCTAssertEqual(PostgresURL("postgres://u:pw@h/db").clean("auth failed for pw\nline 2"), "auth failed for *** line 2")
        // A server down: a one-line error naming the URL without its password, at once.
        let start = Date()
        XCTAssertThrowsError(try StoreOpening.open("postgres://fracview:pw@127.0.0.1:1/none")) {
            XCTAssertTrue("\($0)".hasPrefix("cannot connect to the review database postgres://fracview@127.0.0.1:1/none"), "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testCredentialsFromPGVariablesAndPgpass() throws {
        let base = try PostgresTestServer.requireServer()
        let url = try PostgresTestServer.freshDatabase(self)
        let name = String(url.split(separator: "/").last!)
        // A URL without user or password, everything else from the environment and ~/.pgpass, as psql does.
        let dir = try makeStoreTempDir(self)
        let pgpass = dir + "/pgpass"
        try "127.0.0.1:55432:*:fracview:fracview-test-only\n".write(toFile: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass, 0o600)
        XCTAssertTrue(base.contains("55432"), "the test server's port (scripts/postgres.sh)")
        setenv("PGUSER", "fracview", 1); setenv("PGPASSFILE", pgpass, 1)
        defer { unsetenv("PGUSER"); unsetenv("PGPASSFILE") }
        let store = try StoreOpening.open("postgres://127.0.0.1:55432/\(name)")
        try store.setSessionInfo(datasetRoot: "/d", classes: sampleClasses)
        try store.record(sampleDecision())
        XCTAssertEqual(try store.allDecisions(reviewer: nil).count, 1)
    }

    func testAServerRestartIsInvisibleToTheNextWrite() throws {
        let url = try PostgresTestServer.freshDatabase(self)
        let store = try postgres(url)
        try store.setSessionInfo(datasetRoot: "/d", classes: sampleClasses)
        try store.record(sampleDecision("test/images/1.jpg"))
        try PostgresTestServer.restart()
        // Nothing had been sent on the dead connection: the store reconnects and records.
        try store.record(sampleDecision("test/images/2.jpg"))
        // The same with the TUI's idle polling between restart and write.
        try PostgresTestServer.restart()
        _ = store.pollConnection()
        _ = try? store.changeToken()
        try store.record(sampleDecision("test/images/3.jpg"))
        try PostgresTestServer.restart()
        _ = try? store.changeToken()
        _ = store.pollConnection()
        try store.record(sampleDecision("test/images/4.jpg"))
        XCTAssertEqual(try store.allDecisions(reviewer: nil).count, 4)
    }

    /// A COMMIT whose answer is lost with the connection: settled by the decision's op_id, as stored or as not
    /// saved, at once when the server answers again, or at the next poll when it does not; never silently lost.
    func testAnUnacknowledgedCommitIsSettledNeverLost() throws {
        let url = try PostgresTestServer.freshDatabase(self)
        let store = try postgres(url)
        try store.setSessionInfo(datasetRoot: "/d", classes: sampleClasses)
        // Sent, then the connection drops: the server committed it, and record says so by returning.
        store.injectedCommitFault = .dropAfterSend
        try store.record(sampleDecision("test/images/1.jpg"))
        XCTAssertEqual(try store.allDecisions(reviewer: nil).map(\.caseID), ["test/images/1.jpg"])
        // Dropped before the COMMIT left: the server rolled it back, and record says NOT saved.
        store.injectedCommitFault = .dropBeforeSend
        XCTAssertThrowsError(try store.record(sampleDecision("test/images/2.jpg"))) { error in
            XCTAssertTrue("\(error)".contains("it was NOT saved"), "\(error)")
            XCTAssertTrue((error as? ReviewStoreError)?.connectionLost ?? false)
        }
        XCTAssertEqual(try store.allDecisions(reviewer: nil).count, 1)
        // Sent, and the server cannot be asked yet: reported as not saved as far as fracview knows, then settled
        // by the next poll as stored.
        store.injectedCommitFault = .dropAfterSendServerUnreachable
        XCTAssertThrowsError(try store.record(sampleDecision("test/images/3.jpg"))) { error in
            XCTAssertTrue("\(error)".contains("it checks once the server is back"), "\(error)")
        }
        let poll = store.pollConnection()
        XCTAssertEqual(poll.state, .connected)
        XCTAssertEqual(poll.notices, ["the decision for test/images/3.jpg, sent as the connection dropped, was stored"])
        XCTAssertEqual(store.pollConnection().notices, [], "said once")
        XCTAssertEqual(Set(try store.allDecisions(reviewer: nil).map(\.caseID)), ["test/images/1.jpg", "test/images/3.jpg"])
    }

    func testAKilledSessionIsReconnectedBeforeTheWriteAndAServerDownIsRefused() throws {
        let url = try PostgresTestServer.freshDatabase(self)
        let store = try postgres(url)
        try store.setSessionInfo(datasetRoot: "/d", classes: sampleClasses)
        try store.record(sampleDecision("test/images/1.jpg"))
        // The server ends the session (an admin, a failover): the next write reconnects first, nothing is lost or doubled.
        let admin = try PostgresConnection(url: PostgresURL(try PostgresTestServer.requireServer()))
        try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                          [String(url.split(separator: "/").last!)])
        try store.record(sampleDecision("test/images/2.jpg"))
        XCTAssertEqual(store.pollConnection().state, .connected)
        XCTAssertEqual(try store.undoDepth(reviewer: "alice", role: .reader), 2)
        // A store whose server is gone refuses at once, saying so, and writes nothing.
        let gone = try postgres(url)
        try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                          [String(url.split(separator: "/").last!)])
        try admin.execute("ALTER DATABASE \(url.split(separator: "/").last!) WITH ALLOW_CONNECTIONS false")
        defer { _ = try? admin.execute("ALTER DATABASE \(url.split(separator: "/").last!) WITH ALLOW_CONNECTIONS true") }
        XCTAssertThrowsError(try gone.record(sampleDecision("test/images/3.jpg"))) { error in
            XCTAssertTrue((error as? ReviewStoreError)?.connectionLost ?? false, "\(error)")
            XCTAssertTrue("\(error)".contains("not saved") || "\(error)".contains("no connection"), "\(error)")
        }
        if case .connected = gone.pollConnection().state { XCTFail("the poll must say the store is lost") }
        try admin.execute("ALTER DATABASE \(url.split(separator: "/").last!) WITH ALLOW_CONNECTIONS true")
        XCTAssertEqual(gone.pollConnection().state, .connected, "reconnects by itself")
        try gone.record(sampleDecision("test/images/4.jpg"))
        XCTAssertEqual(Set(try store.allDecisions(reviewer: nil).map(\.caseID)),
                       ["test/images/1.jpg", "test/images/2.jpg", "test/images/4.jpg"], "the refused decision is absent")
    }
}
