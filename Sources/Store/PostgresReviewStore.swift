import Basics
import Foundation

/// The shared decision store of a team: a PostgreSQL server, through libpq. Same tables, columns, migrations
/// (`StoreMigrations`), records (`ReviewDecision`'s Codable conformance, through `PostgresRowDecoder` and
/// `PostgresRowEncoder`) and rules as the SQLite `ReviewStore`, minus the prediction cache, which stays in each
/// machine's local SQLite file (it is per machine and per weights, and large).
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
    private var unsettled: (opID: String, caseID: String, backend: Int32)?

    /// Fault injection for the tests: how the next COMMIT's connection fails (`nil`: it does not).
    enum CommitFault { case dropBeforeSend, dropAfterSend, dropAfterSendServerUnreachable }
    var injectedCommitFault: CommitFault?


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

    /// The migrations this store applies: `StoreMigrations`, in PostgreSQL's dialect.
    static let migrations: [(id: String, statements: [String])] = StoreMigrations.all.map { ($0.id, $0.postgres) }

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
                                           + "v\(StoreMigrations.schemaVersion)): update fracview to use it")
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
                    for statement in migration.statements { try c.execute(statement) }
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

    /// The decision's columns, as its coding keys name them.
    private static let columns = ReviewDecision.CodingKeys.allCases.map(\.column).joined(separator: ", ")

    public func record(_ decision: ReviewDecision) throws {
        let after = try StoreJSON.string(decision)
        let opID = UUID().uuidString
        let d = decision
        try locked("record the decision for \(d.caseID)") { c in
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
                              [[d.reviewer, d.role.rawValue, d.split, d.caseID].joined(separator: "\u{1}")])
                let before = try c.execute("SELECT \(Self.columns) FROM decision WHERE reviewer = $1 AND role = $2 AND split = $3 "
                                           + "AND case_id = $4", [d.reviewer, d.role.rawValue, d.split, d.caseID])
                let beforeJSON: String? = try before.count == 0 ? nil : StoreJSON.string(Self.decode(before, row: 0).decision.get())
                try Self.save(c, d)
                try c.execute("""
                    INSERT INTO history (reviewer, role, split, case_id, before, after, recorded_at, op_id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """, [d.reviewer, d.role.rawValue, d.split, d.caseID, beforeJSON, after,
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
                try settle(c, opID: opID, caseID: d.caseID, backend: backend, failure: failure)
            } catch {
                if c.isConnected { _ = try? c.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// Inserts or replaces the decision's row (its record's columns), with the class names next to the indices from
    /// the session's classes, as SQLite's `save`: a row stays readable whatever class order a later dataset uses.
    private static func save(_ c: PostgresConnection, _ d: ReviewDecision) throws {
        let row = try PostgresRowEncoder.columns(d)
        let names = row.map(\.column)
        // The parameters are the record's columns, in coding-key order.
        func parameter(_ key: ReviewDecision.CodingKeys) -> String { "$\(ReviewDecision.CodingKeys.allCases.firstIndex(of: key)! + 1)" }
        func className(_ key: ReviewDecision.CodingKeys) -> String {
            "(SELECT classes::json ->> \(parameter(key))::integer FROM session WHERE id = 1)"
        }
        let primaryKey = [ReviewDecision.CodingKeys.reviewer, .role, .split, .caseID].map(\.column)
        let replaced = names.filter { !primaryKey.contains($0) } + ["truth_class", "predicted_class", "reviewer_class"]
        try c.execute("""
            INSERT INTO decision (\(names.joined(separator: ", ")), truth_class, predicted_class, reviewer_class)
            VALUES (\(names.indices.map { "$\($0 + 1)" }.joined(separator: ", ")),
                    \(className(.truth)), \(className(.predicted)), \(className(.reviewerLabel)))
            ON CONFLICT (\(primaryKey.joined(separator: ", "))) DO UPDATE SET
              \(replaced.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """, row.map(\.value))
    }

    /// Settles a commit whose answer was lost: reconnects once and looks the decision's op_id up.
    private func settle(_ c: PostgresConnection, opID: String, caseID: String, backend: Int32,
                        failure: PostgresConnection.Failure) throws {
        let unreachable = injectedCommitFault == .dropAfterSendServerUnreachable
        injectedCommitFault = nil
        if !unreachable, (try? c.connect()) != nil, let stored = try? lookUp(c, opID: opID, oldBackend: backend) {
            if stored { return }
            throw ReviewStoreError("the connection to \(url.display) dropped while committing the decision for \(caseID): "
                                   + "it was NOT saved", connectionLost: true)
        }
        unsettled = (opID, caseID, backend)
        throw ReviewStoreError("the connection to \(url.display) dropped while committing the decision for \(caseID): "
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
                    SELECT id, split, case_id, before FROM history WHERE reviewer = $1 AND role = $2
                    ORDER BY id DESC LIMIT 1
                    """, [reviewer, role.rawValue])
                guard last.count > 0 else { try c.execute("COMMIT"); return nil }
                guard let id = last.value(0, "id"), let split = last.value(0, "split"),
                      let caseID = last.value(0, "case_id") else {
                    throw ReviewStoreError("the last history row of \(reviewer) is damaged; nothing undone")
                }
                if let beforeJSON = last.value(0, "before") {
                    let before: ReviewDecision
                    do { before = try StoreJSON.decode(ReviewDecision.self, from: beforeJSON) } catch {
                        throw ReviewStoreError("the last history row of \(reviewer) is damaged (\(caseID)); nothing undone")
                    }
                    try Self.save(c, before)
                } else {
                    try c.execute("DELETE FROM decision WHERE reviewer = $1 AND role = $2 AND split = $3 AND case_id = $4",
                                  [reviewer, role.rawValue, split, caseID])
                }
                try c.execute("DELETE FROM history WHERE id = $1::bigint", [id])
                try c.execute("COMMIT")
                return caseID
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
        for r in 0..<rows.count { if case .success(let d) = Self.decode(rows, row: r).decision { result[d.caseID] = d } }
        return result
    }

    public func teamDecisions(split: String) throws -> [ReviewDecision] {
        let rows = try locked("read the team's decisions", retry: true) { c in
            try c.execute("SELECT \(Self.columns) FROM decision WHERE split = $1 ORDER BY reviewed_at, reviewer, role", [split])
        }
        return (0..<rows.count).compactMap { try? Self.decode(rows, row: $0).decision.get() }
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
            let decoded = Self.decode(rows, row: r)
            switch decoded.decision {
            case .success(let d):
                if let mismatch = RecordedClassNames.mismatch(d, truth: rows.value(r, "truth_class"), predicted: rows.value(r, "predicted_class"),
                                                              reviewer: rows.value(r, "reviewer_class"), classes: classes) {
                    problems.append(mismatch)
                    continue
                }
                decisions.append(d)
            case .failure(let e): problems.append(e.message)
            }
            if let problem = decoded.problem { problems.append(problem) }
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
                ? "the decision for \(pending.caseID), sent as the connection dropped, was stored"
                : "the decision for \(pending.caseID), sent as the connection dropped, was NOT stored: decide it again")
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

    /// One row as a decision, through its Codable conformance (`PostgresRowDecoder`). As in SQLite, a row that
    /// cannot be read is a one-line problem and left out, and one whose probabilities are damaged is kept without
    /// them (`problem`), since the reviewer's call is what matters.
    static func decode(_ rows: PostgresConnection.Rows, row r: Int) -> (decision: Result<ReviewDecision, ReviewStoreError>, problem: String?) {
        var values = Dictionary(zip(rows.columns, rows.values[r]), uniquingKeysWith: { a, _ in a })
        let caseID = values[ReviewDecision.CodingKeys.caseID.column] ?? nil, reviewer = values["reviewer"] ?? nil
        let name = "review database row \(caseID ?? "?") (reviewer \(reviewer ?? "?"))"
        if let d = try? PostgresRowDecoder.decode(ReviewDecision.self, values: values) { return (.success(d), nil) }
        values[ReviewDecision.CodingKeys.probabilities.column] = "[]"
        if let d = try? PostgresRowDecoder.decode(ReviewDecision.self, values: values) {
            return (.success(d), TerminalSafeText.clean("\(name): its probabilities are not a list of numbers; kept without them"))
        }
        return (.failure(ReviewStoreError(TerminalSafeText.clean("\(name): damaged; left out"))), nil)
    }
}

extension PostgresReviewStore: DecisionStore {
    public var location: String { url.display }
}
