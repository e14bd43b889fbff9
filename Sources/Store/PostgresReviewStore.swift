import Foundation

/// The shared decision store of a team: a PostgreSQL server, through libpq. Same tables, columns, migrations
/// (v1–v4) and rules as the SQLite `ReviewStore`, minus the prediction cache, which stays in each machine's local
/// SQLite file (it is per machine and per weights, and large).
///
/// - Every `record` is one transaction (BEGIN … COMMIT), committed before it returns.
/// - Writers to the same (reviewer, role, split, case) are serialised by a transaction-scoped advisory lock, so the
///   undo history's "before" is always the row the commit replaced. Different reviewers never wait for each other.
/// - A lost connection is retried on the next call; meanwhile every write fails with `connectionLost`. A COMMIT whose
///   answer was lost is settled by looking its `op_id` up after reconnecting: the decision is then reported as
///   stored, or as not saved; it is never silently lost.
///
/// Thread safety: one lock around the connection.
public final class PostgresReviewStore: @unchecked Sendable {
    public let url: PostgresURL
    private let connection: PostgresConnection
    private let lock = NSLock()
    /// A decision whose COMMIT was sent but not answered, and that could not be looked up yet.
    private var unsettled: (opID: String, path: String, backend: Int32)?

    /// Fault injection for the tests: how the next COMMIT's connection fails (`nil`: it does not).
    enum CommitFault { case dropBeforeSend, dropAfterSend, dropAfterSendServerUnreachable }
    var injectedCommitFault: CommitFault?

    /// The schema version this fracview writes (the same numbering as SQLite's).
    static let schemaVersion = 5

    public init(url: PostgresURL) throws {
        self.url = url
        do {
            connection = try PostgresConnection(url: url)
        } catch let failure as PostgresConnection.Failure {
            throw ReviewStoreError("cannot connect to the review database \(url.display): \(failure.message)",
                                   connectionLost: true)
        }
        try migrate()
    }

    // MARK: schema

    /// The same migrations as SQLite's, in PostgreSQL's dialect (no prediction cache: it stays local).
    static let migrations: [(id: String, sql: [String])] = [
        ("v1", [
            """
            CREATE TABLE session (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              dataset_root TEXT NOT NULL,
              classes TEXT NOT NULL,
              updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE decision (
              reviewer TEXT NOT NULL,
              split TEXT NOT NULL,
              relative_path TEXT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('accepted', 'flagged', 'relabelled')),
              truth INTEGER,
              predicted INTEGER,
              probabilities TEXT NOT NULL,
              reviewer_label INTEGER,
              note TEXT NOT NULL,
              reviewed_at TEXT NOT NULL,
              weights_id TEXT NOT NULL,
              PRIMARY KEY (reviewer, split, relative_path)
            )
            """,
            """
            CREATE TABLE history (
              id BIGSERIAL PRIMARY KEY,
              reviewer TEXT NOT NULL,
              split TEXT NOT NULL,
              relative_path TEXT NOT NULL,
              before TEXT,
              after TEXT NOT NULL,
              recorded_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX history_by_reviewer ON history (reviewer, id)",
        ]),
        ("v2", [
            "ALTER TABLE decision ADD COLUMN truth_class TEXT, ADD COLUMN predicted_class TEXT, ADD COLUMN reviewer_class TEXT",
        ]),
        ("v3", [
            """
            ALTER TABLE decision
              ADD COLUMN role TEXT NOT NULL DEFAULT 'reader' CHECK (role IN ('reader', 'adjudicator')),
              ADD COLUMN read_mode TEXT NOT NULL DEFAULT 'open' CHECK (read_mode IN ('open', 'blind', 'blind-model'))
            """,
            "ALTER TABLE decision DROP CONSTRAINT decision_pkey, ADD PRIMARY KEY (reviewer, role, split, relative_path)",
            "CREATE INDEX decision_by_split ON decision (split)",
            "ALTER TABLE history ADD COLUMN role TEXT NOT NULL DEFAULT 'reader', ADD COLUMN op_id TEXT",
            "DROP INDEX history_by_reviewer",
            "CREATE INDEX history_by_reviewer ON history (reviewer, role, id)",
            "CREATE INDEX history_by_op ON history (op_id)",
        ]),
        ("v4", [
            // The undo history keeps decisions as ReviewDecision's JSON, whose role and read mode are required:
            // rows written before v3 get the defaults v3 gave their decisions. (SQLite's v4 also moves its
            // prediction cache to JSON probabilities; the cache is not on the server.)
            """
            UPDATE history SET before = (jsonb_build_object('role', 'reader', 'readMode', 'open') || before::jsonb)::text
            WHERE before IS NOT NULL AND NOT (before::jsonb ? 'role')
            """,
            """
            UPDATE history SET after = (jsonb_build_object('role', 'reader', 'readMode', 'open') || after::jsonb)::text
            WHERE NOT (after::jsonb ? 'role')
            """,
        ]),
        // SQLite's v5 adds the localiser's boxes and the crop stage to its prediction cache; the cache is not on the
        // server, so here it is only recorded, keeping both stores' migration lists the same.
        ("v5", []),
    ]

    /// Applies the missing migrations in one transaction, under an advisory lock so that two readers starting at once
    /// don't both migrate. Refuses a database that a newer fracview migrated.
    private func migrate() throws {
        try locked("prepare the review database") { c in
            try c.execute("BEGIN")
            do {
                try c.execute("SELECT pg_advisory_xact_lock(7406011)") // any constant: "fracview migrates"
                try c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (identifier TEXT PRIMARY KEY)")
                let applied = Set(try c.execute("SELECT identifier FROM schema_migrations").values.compactMap { $0[0] })
                let known = Set(Self.migrations.map(\.id))
                if !applied.subtracting(known).isEmpty {
                    throw ReviewStoreError("\(url.display) was written by a newer fracview (schema with unknown migrations "
                                           + "\(applied.subtracting(known).sorted().joined(separator: ", ")), this one knows "
                                           + "v\(Self.schemaVersion)): update fracview to use it")
                }
                if applied.isEmpty {
                    // A database that has our table names but no migration record is someone else's.
                    let tables = try c.execute("""
                        SELECT table_name FROM information_schema.tables
                        WHERE table_schema = current_schema() AND table_name IN ('session', 'decision', 'history')
                        """)
                    if tables.count > 0 {
                        throw ReviewStoreError("\(url.display) has tables named session, decision or history that fracview "
                                               + "did not create: use another database")
                    }
                }
                for migration in Self.migrations where !applied.contains(migration.id) {
                    for statement in migration.sql { try c.execute(statement) }
                    try c.execute("INSERT INTO schema_migrations (identifier) VALUES ($1)", [migration.id])
                }
                try c.execute("COMMIT")
            } catch {
                _ = try? c.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: session info

    public func setSessionInfo(datasetRoot: String, classes: [String]) throws {
        let json = try StoreJSON.string(classes)
        try locked("save the session info") { c in
            // A team shares one class list: decisions store class indices, so a dataset whose classes differ
            // would silently mislabel every shared row.
            if let existing = try c.execute("SELECT classes FROM session WHERE id = 1").value(0, "classes"),
               let names = try? JSONDecoder().decode([String].self, from: Data(existing.utf8)), !names.isEmpty, names != classes {
                throw ReviewStoreError("the review database \(url.display) holds decisions on the classes "
                                       + "\(names.joined(separator: ", ")); this dataset's are \(classes.joined(separator: ", ")): "
                                       + "use another database")
            }
            try c.execute("""
                INSERT INTO session (id, dataset_root, classes, updated_at) VALUES (1, $1, $2, $3)
                ON CONFLICT (id) DO UPDATE SET dataset_root = excluded.dataset_root, classes = excluded.classes,
                                               updated_at = excluded.updated_at
                """, [datasetRoot, json, ReviewTime.string(Date())])
        }
    }

    public func classes() throws -> [String] {
        let rows = try locked("read the session info", retry: true) { c in try c.execute("SELECT classes FROM session WHERE id = 1") }
        guard rows.count > 0 else { return [] }
        return try ReviewStore.sessionClasses(rows.value(0, "classes"), location: url.display)
    }

    public func datasetRoot() throws -> String? {
        try locked("read the session info", retry: true) { c in try c.execute("SELECT dataset_root FROM session WHERE id = 1").value(0, "dataset_root") }
    }

    // MARK: decisions

    private static let columns = """
        reviewer, split, relative_path, status, truth, predicted, probabilities, reviewer_label, note, reviewed_at,
        weights_id, role, read_mode
        """

    public func record(_ decision: ReviewDecision) throws {
        let after = try StoreJSON.string(decision)
        let opID = UUID().uuidString
        let d = decision
        try locked("record the decision for \(d.relativePath)") { c in
            var committing = false
            var backend: Int32 = 0
            do {
                do {
                    try c.execute("BEGIN")
                } catch let failure as PostgresConnection.Failure where c.lostConnection(failure) {
                    // A connection that died while idle (a server restart) is only found out now, and nothing was
                    // sent that could commit: reconnect once and go on.
                    guard (try? c.connect()) != nil else { throw failure }
                    try c.execute("BEGIN")
                }
                try c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                              [[d.reviewer, d.role.rawValue, d.split, d.relativePath].joined(separator: "\u{1}")])
                let before = try c.execute("SELECT \(Self.columns) FROM decision WHERE reviewer = $1 AND role = $2 AND split = $3 "
                                           + "AND relative_path = $4", [d.reviewer, d.role.rawValue, d.split, d.relativePath])
                let beforeJSON = try Self.decode(before, row: 0).map { try StoreJSON.string($0) }
                try c.execute("""
                    INSERT INTO decision (\(Self.columns), truth_class, predicted_class, reviewer_class)
                    VALUES ($1, $2, $3, $4, $5::integer, $6::integer, $7, $8::integer, $9, $10, $11, $12, $13,
                            (SELECT classes::json ->> $5::integer FROM session WHERE id = 1),
                            (SELECT classes::json ->> $6::integer FROM session WHERE id = 1),
                            (SELECT classes::json ->> $8::integer FROM session WHERE id = 1))
                    ON CONFLICT (reviewer, role, split, relative_path) DO UPDATE SET
                      status = excluded.status, truth = excluded.truth, predicted = excluded.predicted,
                      probabilities = excluded.probabilities, reviewer_label = excluded.reviewer_label,
                      note = excluded.note, reviewed_at = excluded.reviewed_at, weights_id = excluded.weights_id,
                      read_mode = excluded.read_mode, truth_class = excluded.truth_class,
                      predicted_class = excluded.predicted_class, reviewer_class = excluded.reviewer_class
                    """, [d.reviewer, d.split, d.relativePath, d.status.rawValue, d.truth.map(String.init),
                          d.predicted.map(String.init), try StoreJSON.string(d.probabilities),
                          d.reviewerLabel.map(String.init), d.note, ReviewTime.string(d.reviewedAt), d.weightsID,
                          d.role.rawValue, d.readMode.rawValue])
                try c.execute("""
                    INSERT INTO history (reviewer, role, split, relative_path, before, after, recorded_at, op_id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """, [d.reviewer, d.role.rawValue, d.split, d.relativePath, beforeJSON, after,
                          ReviewTime.string(Date()), opID])
                committing = true
                backend = c.backendPID
                if let fault = injectedCommitFault {
                    switch fault {
                    case .dropBeforeSend: c.close()
                    case .dropAfterSend, .dropAfterSendServerUnreachable: c.sendAndDrop("COMMIT")
                    }
                    throw PostgresConnection.Failure(sqlState: nil, message: "the connection dropped (injected fault)")
                }
                try c.execute("COMMIT")
            } catch let failure as PostgresConnection.Failure where committing && c.lostConnection(failure) {
                // The COMMIT went out and no answer came back: the server may or may not have committed it.
                try settle(c, opID: opID, path: d.relativePath, backend: backend, failure: failure)
            } catch {
                if c.isConnected { _ = try? c.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// Settles a commit whose answer was lost: reconnects once and looks the decision's op_id up.
    private func settle(_ c: PostgresConnection, opID: String, path: String, backend: Int32,
                        failure: PostgresConnection.Failure) throws {
        let unreachable = injectedCommitFault == .dropAfterSendServerUnreachable
        injectedCommitFault = nil
        if !unreachable, (try? c.connect()) != nil, let stored = try? lookUp(c, opID: opID, oldBackend: backend) {
            if stored { return }
            throw ReviewStoreError("the connection to \(url.display) dropped while committing the decision for \(path): "
                                   + "it was NOT saved", connectionLost: true)
        }
        unsettled = (opID, path, backend)
        throw ReviewStoreError("the connection to \(url.display) dropped while committing the decision for \(path): "
                               + "NOT saved as far as fracview knows; it checks once the server is back (\(failure.message))",
                               connectionLost: true)
    }

    /// Whether the decision with this op_id is stored, for certain. The old session's server process may still hold
    /// the transaction (the COMMIT in flight, or not yet read): it is ended first, and its end waited for (5 s at most),
    /// so that the answer cannot change afterwards. nil when that could not be made sure.
    private func lookUp(_ c: PostgresConnection, opID: String, oldBackend: Int32) throws -> Bool? {
        if oldBackend != 0 {
            _ = try? c.execute("SELECT pg_terminate_backend($1::integer)", [String(oldBackend)])
            let deadline = Date().addingTimeInterval(5)
            while try c.execute("SELECT 1 FROM pg_stat_activity WHERE pid = $1::integer", [String(oldBackend)]).count > 0 {
                guard Date() < deadline else { return nil }
                usleep(20_000)
            }
        }
        return try c.execute("SELECT 1 FROM history WHERE op_id = $1", [opID]).count > 0
    }

    @discardableResult
    public func undoLast(reviewer: String, role: ReviewRole) throws -> String? {
        try locked("undo the last decision") { c -> String? in
            try c.execute("BEGIN")
            do {
                // Serialise with this reviewer's other windows: one undo takes one history row.
                try c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))", [reviewer + "\u{1}" + role.rawValue])
                let last = try c.execute("""
                    SELECT id, split, relative_path, before FROM history WHERE reviewer = $1 AND role = $2
                    ORDER BY id DESC LIMIT 1
                    """, [reviewer, role.rawValue])
                guard last.count > 0 else { try c.execute("COMMIT"); return nil }
                guard let id = last.value(0, "id"), let split = last.value(0, "split"),
                      let path = last.value(0, "relative_path") else {
                    throw ReviewStoreError("the last history row of \(reviewer) is damaged; nothing undone")
                }
                if let beforeJSON = last.value(0, "before") {
                    let before = try StoreJSON.decode(ReviewDecision.self, from: beforeJSON)
                    try c.execute("""
                        UPDATE decision SET status = $5, truth = $6::integer, predicted = $7::integer, probabilities = $8,
                          reviewer_label = $9::integer, note = $10, reviewed_at = $11, weights_id = $12, read_mode = $13,
                          truth_class = (SELECT classes::json ->> $6::integer FROM session WHERE id = 1),
                          predicted_class = (SELECT classes::json ->> $7::integer FROM session WHERE id = 1),
                          reviewer_class = (SELECT classes::json ->> $9::integer FROM session WHERE id = 1)
                        WHERE reviewer = $1 AND role = $2 AND split = $3 AND relative_path = $4
                        """, [reviewer, role.rawValue, split, path, before.status.rawValue, before.truth.map(String.init),
                              before.predicted.map(String.init), try StoreJSON.string(before.probabilities),
                              before.reviewerLabel.map(String.init), before.note, ReviewTime.string(before.reviewedAt),
                              before.weightsID, before.readMode.rawValue])
                } else {
                    try c.execute("DELETE FROM decision WHERE reviewer = $1 AND role = $2 AND split = $3 AND relative_path = $4",
                                  [reviewer, role.rawValue, split, path])
                }
                try c.execute("DELETE FROM history WHERE id = $1::bigint", [id])
                try c.execute("COMMIT")
                return path
            } catch {
                if c.isConnected { _ = try? c.execute("ROLLBACK") }
                throw error
            }
        }
    }

    public func undoDepth(reviewer: String, role: ReviewRole) throws -> Int {
        try locked("read the history", retry: true) { c in
            Int(try c.execute("SELECT COUNT(*) AS n FROM history WHERE reviewer = $1 AND role = $2",
                              [reviewer, role.rawValue]).value(0, "n") ?? "0") ?? 0
        }
    }

    public func decisions(reviewer: String, role: ReviewRole, split: String) throws -> [String: ReviewDecision] {
        let rows = try locked("read the decisions", retry: true) { c in
            try c.execute("SELECT \(Self.columns) FROM decision WHERE reviewer = $1 AND role = $2 AND split = $3",
                          [reviewer, role.rawValue, split])
        }
        var result: [String: ReviewDecision] = [:]
        for r in 0..<rows.count { if let d = try? Self.decode(rows, row: r) { result[d.relativePath] = d } }
        return result
    }

    public func teamDecisions(split: String) throws -> [ReviewDecision] {
        let rows = try locked("read the team's decisions", retry: true) { c in
            try c.execute("SELECT \(Self.columns) FROM decision WHERE split = $1 ORDER BY reviewed_at, reviewer, role", [split])
        }
        return (0..<rows.count).compactMap { try? Self.decode(rows, row: $0) }
    }

    public func readDecisions(reviewer: String?) throws -> (decisions: [ReviewDecision], problems: [String]) {
        let rows = try locked("read the decisions", retry: true) { c in
            let names = "\(Self.columns), truth_class, predicted_class, reviewer_class"
            if let reviewer {
                return try c.execute("SELECT \(names) FROM decision WHERE reviewer = $1 ORDER BY reviewed_at, role", [reviewer])
            }
            return try c.execute("SELECT \(names) FROM decision ORDER BY reviewed_at, reviewer, role")
        }
        let classes = try classes()
        var decisions: [ReviewDecision] = [], problems: [String] = []
        for r in 0..<rows.count {
            do {
                guard let d = try Self.decode(rows, row: r) else { continue }
                if let mismatch = RecordedClassNames.mismatch(d, truth: rows.value(r, "truth_class"), predicted: rows.value(r, "predicted_class"),
                                                              reviewer: rows.value(r, "reviewer_class"), classes: classes) {
                    problems.append(mismatch)
                    continue
                }
                decisions.append(d)
            } catch { problems.append("\(error)") }
        }
        return (decisions, problems)
    }

    public func reviewers() throws -> [String] {
        try locked("read the reviewers", retry: true) { c in
            try c.execute("SELECT DISTINCT reviewer FROM decision ORDER BY reviewer").values.compactMap { $0[0] }
        }
    }

    public func changeToken() throws -> String {
        try locked("read the history", retry: true) { c in
            let r = try c.execute("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS last FROM history")
            return "\(r.value(0, "n") ?? "0"):\(r.value(0, "last") ?? "0")"
        }
    }

    public func pollConnection() -> (state: StoreConnection, notices: [String]) {
        lock.lock(); defer { lock.unlock() }
        var notices: [String] = []
        if !connection.isConnected || (try? connection.execute("SELECT 1")) == nil {
            connection.close()
            guard (try? connection.connect()) != nil else { return (.lost(lostLine()), []) }
        }
        if let pending = unsettled, let stored = (try? lookUp(connection, opID: pending.opID, oldBackend: pending.backend)) ?? nil {
            unsettled = nil
            notices.append(stored
                ? "the decision for \(pending.path), sent as the connection dropped, was stored"
                : "the decision for \(pending.path), sent as the connection dropped, was NOT stored: decide it again")
        }
        return (.connected, notices)
    }

    private func lostLine() -> String { "lost the connection to \(url.display)" }

    // MARK: internals

    /// Runs `body` on the connection under the lock, reconnecting first if it was lost. Errors become one line that
    /// names the store without its password; a lost connection is marked `connectionLost`.
    /// `retry`: the body only reads, so a connection found dead on its first statement is reopened and the body run
    /// again (writes retry only their BEGIN, in `record`).
    private func locked<T>(_ action: String, retry: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        if !connection.isConnected {
            do { try connection.connect() } catch let failure as PostgresConnection.Failure {
                throw ReviewStoreError("cannot \(action): no connection to \(url.display) (\(failure.message))",
                                       connectionLost: true)
            }
        }
        do {
            do {
                return try body(connection)
            } catch let failure as PostgresConnection.Failure where retry && connection.lostConnection(failure) {
                guard (try? connection.connect()) != nil else { throw failure }
                return try body(connection)
            }
        } catch let error as ReviewStoreError {
            throw error
        } catch let failure as PostgresConnection.Failure {
            if connection.lostConnection(failure) {
                connection.close()
                throw ReviewStoreError("cannot \(action): lost the connection to \(url.display) (\(failure.message)); not saved",
                                       connectionLost: true)
            }
            throw ReviewStoreError("cannot \(action) in \(url.display): \(failure.message)")
        }
    }

    /// One row as a decision; nil for a row index past the end. Throws a one-line problem for a damaged row.
    static func decode(_ rows: PostgresConnection.Rows, row r: Int) throws -> ReviewDecision? {
        guard r < rows.count else { return nil }
        func text(_ column: String) -> String? { rows.value(r, column) }
        func int(_ column: String) -> Int? { text(column).flatMap { Int($0) } }
        let path = text("relative_path") ?? "?", reviewer = text("reviewer") ?? "?"
        let name = "review database row \(path) (reviewer \(reviewer))"
        guard let split = text("split"), let status = ReviewStatus(rawValue: text("status") ?? ""),
              let role = ReviewRole(rawValue: text("role") ?? ""), let reviewedAt = ReviewTime.date(text("reviewed_at") ?? "")
        else { throw ReviewStoreError("\(name): damaged; left out") }
        let probabilities = text("probabilities").flatMap { try? StoreJSON.decode([Float].self, from: $0) } ?? []
        return ReviewDecision(relativePath: path, split: split, reviewer: reviewer, status: status, truth: int("truth"),
                              predicted: int("predicted"), probabilities: probabilities, reviewerLabel: int("reviewer_label"),
                              note: text("note") ?? "", reviewedAt: reviewedAt, weightsID: text("weights_id") ?? "",
                              role: role, readMode: ReadMode(rawValue: text("read_mode") ?? "") ?? .open)
    }
}

extension PostgresReviewStore: DecisionStore {
    public var location: String { url.display }
}
