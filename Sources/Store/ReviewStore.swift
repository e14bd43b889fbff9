import Basics
import Foundation
import GRDB

/// The decisions of one machine: an SQLite file (`ReviewDatabase`, which its prediction cache shares). Every write
/// is its own committed transaction, so a kill -9 at any moment loses nothing already acknowledged.
///
/// Thread safety: the database serialises writers and lets readers run beside them, so the TUI (main thread) and
/// the inference runner (background thread) may call any method concurrently.
public final class ReviewStore: @unchecked Sendable {
    /// Default file name, placed beside the dataset (its root folder) unless --db is given.
    public static let defaultFileName = "fracview-review.sqlite"

    /// The database file's path as given.
    public let path: String
    let database: ReviewDatabase
    var dbWriter: any DatabaseWriter { database.writer }

    /// The prediction cache in the same file.
    public var predictionCache: PredictionCache { SQLitePredictionCache(database: database) }

    /// Who is reviewing: `--reviewer` if given, else $USER (then $LOGNAME), else "reviewer".
    public static func reviewerName(_ flag: String?, env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for candidate in [flag, env["USER"], env["LOGNAME"]] {
            if let name = candidate?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty { return name }
        }
        return "reviewer"
    }

    /// `<datasetRoot>/fracview-review.sqlite`.
    public static func defaultPath(datasetRoot: String) -> String {
        URL(fileURLWithPath: datasetRoot).appendingPathComponent(defaultFileName).path
    }

    /// Opens or creates the database. Throws a one-line error if the location can't be written.
    public convenience init(path: String) throws { try self.init(path: path, readOnly: false) }

    /// `readOnly`: open an existing database without writing (for exports from read-only media);
    /// it must exist and be a fracview review database.
    public init(path: String, readOnly: Bool) throws {
        self.path = path
        database = try ReviewDatabase(path: path, readOnly: readOnly)
    }

    // MARK: Session info

    /// Class names and dataset root recorded for exports (set when a review session starts).
    public func setSessionInfo(datasetRoot: String, classes: [String]) throws {
        let json = try StoreJSON.string(classes)
        try database.write("save the session info") { db in
            try db.execute(sql: """
                INSERT INTO session (id, dataset_root, classes, updated_at) VALUES (1, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET dataset_root = excluded.dataset_root, classes = excluded.classes,
                                              updated_at = excluded.updated_at
                """, arguments: [datasetRoot, json, ReviewTime.string(Date())])
        }
    }

    /// The class names of the last session, or [] if none was recorded. A recorded list that is not a non-empty
    /// list of names is an error: without it every class and probability column would silently go (issue #26 §10).
    public func classes() throws -> [String] {
        let value = try database.read { db in try DatabaseValue.fetchOne(db, sql: "SELECT classes FROM session WHERE id = 1") }
        guard let value, !value.isNull else { return [] }
        return try Self.sessionClasses(String.fromDatabaseValue(value), location: path)
    }

    /// The session's `classes` JSON, checked (both stores).
    static func sessionClasses(_ json: String?, location: String) throws -> [String] {
        guard let json, let names = try? StoreJSON.decode([String].self, from: json), !names.isEmpty else {
            throw ReviewStoreError(TerminalSafeText.clean("review database \(location): the session's class list is damaged "
                                                          + "(not a non-empty list of class names): the class columns cannot be named"))
        }
        return names
    }

    /// The dataset root of the last session, or nil.
    public func datasetRoot() throws -> String? {
        try database.read { db in
            try DatabaseValue.fetchOne(db, sql: "SELECT dataset_root FROM session WHERE id = 1").flatMap(String.fromDatabaseValue)
        }
    }

    // MARK: Decisions

    /// Inserts or replaces the decision for (reviewer, role, split, caseID) and records it in the undo history.
    public func record(_ decision: ReviewDecision) throws {
        let after = try StoreJSON.string(decision)
        try database.write("record the decision for \(decision.caseID)") { db in
            let before = try Self.fetchDecision(db, reviewer: decision.reviewer, role: decision.role, split: decision.split,
                                                caseID: decision.caseID)
            try Self.save(db, decision)
            try db.execute(sql: """
                INSERT INTO history (reviewer, role, split, case_id, before, after, recorded_at, op_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [decision.reviewer, decision.role.rawValue, decision.split, decision.caseID,
                                 try before.map { try StoreJSON.string($0) }, after,
                                 ReviewTime.string(Date()), UUID().uuidString])
        }
    }

    /// Reverts the reviewer's most recent decision (restoring the case's previous decision, or none);
    /// returns the case id it affected, or nil if there was nothing to undo.
    @discardableResult
    public func undoLast(reviewer: String, role: ReviewRole) throws -> String? {
        try database.write("undo the last decision") { db -> String? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, split, case_id, before FROM history WHERE reviewer = ? AND role = ? ORDER BY id DESC LIMIT 1
                """, arguments: [reviewer, role.rawValue]) else { return nil }
            guard let id: Int64 = row.value("id"), let split: String = row.value("split"),
                  let caseID: String = row.value("case_id") else {
                throw ReviewStoreError("the last history row of \(reviewer) is damaged; nothing undone")
            }
            if let beforeJSON: String = row.value("before") {
                let before: ReviewDecision
                do { before = try StoreJSON.decode(ReviewDecision.self, from: beforeJSON) } catch {
                    throw ReviewStoreError("the last history row of \(reviewer) is damaged (\(caseID)); nothing undone")
                }
                try Self.save(db, before)
            } else {
                try db.execute(sql: "DELETE FROM decision WHERE reviewer = ? AND role = ? AND split = ? AND case_id = ?",
                               arguments: [reviewer, role.rawValue, split, caseID])
            }
            try db.execute(sql: "DELETE FROM history WHERE id = ?", arguments: [id])
            return caseID
        }
    }

    /// Changes whenever a decision is recorded or undone, by this process or another one on the same file: every
    /// write adds a history row (a new largest id), and an undo removes one (the count drops).
    public func changeToken() throws -> String {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS last FROM history")
            return "\(row?.value("n") as Int? ?? 0):\(row?.value("last") as Int64? ?? 0)"
        }
    }

    /// How many decisions `undoLast` can still revert for a reviewer.
    public func undoDepth(reviewer: String, role: ReviewRole) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM history WHERE reviewer = ? AND role = ?",
                             arguments: [reviewer, role.rawValue]) ?? 0
        }
    }

    /// The reviewer's current decisions in a split, by case id. A row that cannot be read is left out
    /// (see `readDecisions` for the reasons); one with damaged probabilities comes without them.
    public func decisions(reviewer: String, role: ReviewRole, split: String) throws -> [String: ReviewDecision] {
        let rows = try database.read { db in
            try Row.fetchAll(db, ReviewDecision.filter(Column("reviewer") == reviewer && Column("role") == role.rawValue
                                                           && Column("split") == split))
        }
        var result: [String: ReviewDecision] = [:]
        for row in rows {
            if case .success(let decision) = ReviewDatabaseForensics.decision(from: row).decision { result[decision.caseID] = decision }
        }
        return result
    }

    /// Every reader's and adjudicator's current decisions in a split, oldest first; unreadable rows are left out.
    public func teamDecisions(split: String) throws -> [ReviewDecision] {
        let rows = try database.read { db in
            try Row.fetchAll(db, ReviewDecision.filter(Column("split") == split).order(Column("reviewed_at"), Column.rowID))
        }
        return rows.compactMap { try? ReviewDatabaseForensics.decision(from: $0).decision.get() }
    }

    /// `allDecisions`, with one line per row that could not be read in full, naming the row: rows with an unknown
    /// status or time are left out; rows with damaged probabilities are kept without them.
    public func readDecisions(reviewer: String?) throws -> (decisions: [ReviewDecision], problems: [String]) {
        let rows = try database.read { db in
            let all = ReviewDecision.order(Column("reviewed_at"), Column.rowID)
            return try Row.fetchAll(db, reviewer.map { all.filter(Column("reviewer") == $0) } ?? all)
        }
        let classes = try classes()
        var decisions: [ReviewDecision] = [], problems: [String] = []
        for row in rows {
            let decoded = ReviewDatabaseForensics.decision(from: row)
            switch decoded.decision {
            case .success(let d):
                if let mismatch = RecordedClassNames.mismatch(d, truth: row.value("truth_class"), predicted: row.value("predicted_class"),
                                                              reviewer: row.value("reviewer_class"), classes: classes) {
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

    /// Every reviewer with at least one current decision, sorted.
    public func reviewers() throws -> [String] {
        try database.read { db in
            try DatabaseValue.fetchAll(db, sql: "SELECT DISTINCT reviewer FROM decision ORDER BY reviewer").compactMap(String.fromDatabaseValue)
        }
    }

    // MARK: Internals

    private static func fetchDecision(_ db: Database, reviewer: String, role: ReviewRole, split: String,
                                      caseID: String) throws -> ReviewDecision? {
        try Row.fetchOne(db, ReviewDecision.filter(Column("reviewer") == reviewer && Column("role") == role.rawValue
                                                       && Column("split") == split && Column("case_id") == caseID))
            .map { try ReviewDatabaseForensics.decision(from: $0).decision.get() }
    }

    /// Inserts or replaces the row (GRDB's upsert), then the class names next to the indices (v2), from the
    /// session's dataset classes: a row stays readable whatever class order a later model or dataset uses.
    private static func save(_ db: Database, _ d: ReviewDecision) throws {
        try d.upsert(db)
        try db.execute(sql: """
            UPDATE decision SET
              truth_class = json_extract((SELECT classes FROM session WHERE id = 1), '$[' || truth || ']'),
              predicted_class = json_extract((SELECT classes FROM session WHERE id = 1), '$[' || predicted || ']'),
              reviewer_class = json_extract((SELECT classes FROM session WHERE id = 1), '$[' || reviewer_label || ']')
            WHERE reviewer = ? AND role = ? AND split = ? AND case_id = ?
            """, arguments: [d.reviewer, d.role.rawValue, d.split, d.caseID])
    }
}
