import Basics
import Foundation
import GRDB

/// What is wrong with an SQLite file given as the review database, said in one line: someone else's database, a
/// newer fracview's, a missing table or column, SQLite's own errors, and the rows that cannot be read (named with
/// their first bad column). A damaged or crafted file must give such a line, never a crash or a silently wrong value.
enum ReviewDatabaseForensics {
    private static let ownTables: Set<String> = ["session", "decision", "history", "prediction_cache"]

    /// Refuses to add tables to some other application's database passed by mistake as --db.
    static func checkIsReviewDatabase(_ writer: any DatabaseWriter, path: String, mustHaveSchema: Bool) throws {
        let tables = try writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        }
        let ours = tables.contains("grdb_migrations") && ownTables.isSubset(of: Set(tables))
        if !ours && tables.contains("grdb_migrations") && !Set(tables).isDisjoint(with: ownTables) {
            let lacking = ownTables.subtracting(tables).sorted().joined(separator: ", ")
            throw ReviewStoreError("review database \(path) is damaged: it has no table \(lacking)")
        }
        if ours { return }
        if !tables.isEmpty || mustHaveSchema {
            throw ReviewStoreError("\(path) is an SQLite database but not a fracview review database")
        }
    }

    /// Refuses a database written by a newer fracview (an unknown migration, or a larger schema version):
    /// writing to it could damage rows this version does not understand.
    static func checkNotNewer(_ writer: any DatabaseWriter, path: String) throws {
        let (superseded, version) = try writer.read { db in
            (try db.tableExists("grdb_migrations") && ReviewDatabase.migrator.hasBeenSuperseded(db),
             try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0)
        }
        let known = StoreMigrations.schemaVersion
        if superseded || version > known {
            throw ReviewStoreError("\(path) was written by a newer fracview (schema \(superseded ? "with unknown migrations" : "v\(version)"), "
                                   + "this one knows v\(known)): update fracview to open it")
        }
    }

    /// The columns every read relies on (a decision's are its coding keys'); a database that lacks one is damaged,
    /// and is refused here rather than failing on its first row.
    private static let requiredColumns: [String: [String]] = [
        "session": ["id", "dataset_root", "classes"],
        "decision": ReviewDecision.CodingKeys.allCases.map(\.column),
        "history": ["id", "reviewer", "split", "case_id", "before", "after", "role", "op_id"],
        "prediction_cache": ["image_hash", "weights_id", "probabilities", "attention", "attention_width",
                             "attention_height", "gradcam", "gradcam_width", "gradcam_height"],
    ]

    static func checkColumns(_ writer: any DatabaseWriter, path: String) throws {
        let missing = try writer.read { db -> [String] in
            var missing: [String] = []
            for (table, columns) in requiredColumns.sorted(by: { $0.key < $1.key }) {
                let have = Set(try db.columns(in: table).map { $0.name.lowercased() })
                missing += columns.filter { !have.contains($0) }.map { "\(table).\($0)" }
            }
            return missing
        }
        if !missing.isEmpty {
            throw ReviewStoreError("review database \(path) is damaged: it has no column \(missing.joined(separator: ", "))")
        }
    }

    /// An SQLite (or any other) error as one line that says what it means for the user.
    static func describe(_ error: Error, path: String, action: String, readOnly: Bool = false) -> ReviewStoreError {
        if let error = error as? ReviewStoreError { return error }
        if let dbError = error as? DatabaseError {
            switch dbError.resultCode {
            case .SQLITE_NOTADB:
                return ReviewStoreError("\(path) is not an SQLite database (is --db pointing at the right file?)")
            case .SQLITE_CORRUPT:
                return ReviewStoreError("review database \(path) is damaged (SQLite: \(oneLine(dbError.message)))")
            case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
                return ReviewStoreError("cannot \(readOnly ? "read" : "write") review database at \(path): "
                                        + oneLine(dbError.message))
            case .SQLITE_FULL:
                return ReviewStoreError("cannot \(action) in \(path): disk full")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return ReviewStoreError("cannot \(action) in \(path): the database is locked by another process")
            default:
                return ReviewStoreError("cannot \(action) in \(path): \(oneLine(dbError.message))")
            }
        }
        return ReviewStoreError("cannot \(action) in \(path): \(oneLine(String(describing: error)))")
    }

    private static func oneLine(_ text: String?) -> String {
        (text ?? "unknown error").split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// A decision row as a decision, through the Codable record; a row that cannot be read names itself and its
    /// first bad column, and is left out. Damaged probabilities are the exception: the decision is kept without them
    /// (`problem`), since the reviewer's call is what matters.
    static func decision(from row: Row) -> (decision: Result<ReviewDecision, ReviewStoreError>, problem: String?) {
        let caseID = row.value(ReviewDecision.CodingKeys.caseID.column) as String? ?? "?"
        let reviewer = row.value("reviewer") as String? ?? "?"
        let name = "review database row \(caseID) (reviewer \(reviewer))"
        func readable(_ row: Row) -> ReviewDecision? {
            // GRDB reads a REAL as an Int by truncating it: a class index of 2.5 would become class 2, a silently
            // different label (issue #26 §10). A class index must be a whole number.
            for key in [ReviewDecision.CodingKeys.truth, .predicted, .reviewerLabel] {
                if let value = row[key.column] as DatabaseValue?, case .double(let v) = value.storage, v.rounded() != v {
                    return nil
                }
            }
            guard var d = try? ReviewDecision(row: row) else { return nil }
            if d.note.contains("\u{0}") { d.note = d.note.replacingOccurrences(of: "\u{0}", with: "\u{2400}") } // ␀, visible
            return d
        }
        if let d = readable(row) { return (.success(d), nil) }
        var values = Dictionary(row.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        values["probabilities"] = "[]".databaseValue
        if let d = readable(Row(values)) {
            return (.success(d), "\(name): its probabilities are not a list of numbers; kept without them")
        }
        let bad = ReviewDecision.CodingKeys.allCases.first { key in
            guard key != .probabilities else { return false }
            var trial = values
            guard let column = row.columnNames.first(where: { $0 == key.column }) else { return true }
            trial[column] = harmless[key]
            return readable(Row(trial)) != nil
        }
        let detail: String
        if let bad {
            let raw = row[bad.column] as DatabaseValue?
            let shown: String? = raw.flatMap { value in
                if case .double(let v) = value.storage { return String(v) }
                return String.fromDatabaseValue(value)
            }
            let text = shown.map { " '\($0.prefix(40))'" } ?? ""
            detail = row.hasColumn(bad.column) ? "bad \(bad.column)\(text)" : "no \(bad.column)"
        } else {
            detail = "unreadable"
        }
        return (.failure(ReviewStoreError(TerminalSafeText.clean("\(name): \(detail); left out"))), nil)
    }

    /// A valid value per column, to find which column makes a row unreadable.
    private static let harmless: [ReviewDecision.CodingKeys: DatabaseValue] = [
        .caseID: "?".databaseValue, .split: "?".databaseValue, .reviewer: "?".databaseValue,
        .status: ReviewStatus.flagged.databaseValue, .truth: .null, .predicted: .null, .probabilities: "[]".databaseValue,
        .reviewerLabel: .null, .note: "".databaseValue, .reviewedAt: ReviewTime.string(Date(timeIntervalSince1970: 0)).databaseValue,
        .weightsID: "".databaseValue, .role: ReviewRole.reader.databaseValue, .readMode: ReadMode.open.databaseValue,
    ]
}

extension ReviewStore {
    /// SQLite's integrity check: "ok", or its first finding.
    public func integrityCheck() throws -> String {
        try database.read { db in
            try DatabaseValue.fetchOne(db, sql: "PRAGMA integrity_check").flatMap(String.fromDatabaseValue) ?? "no answer"
        }
    }
}

extension Row {
    /// A column's value, or nil when the column is missing, NULL or of another type. GRDB's typed subscripts
    /// trap in those cases, and a damaged or crafted database must give an error, not a crash.
    func value<T: DatabaseValueConvertible>(_ column: String) -> T? {
        guard hasColumn(column) else { return nil }
        return T.fromDatabaseValue(self[column] as DatabaseValue)
    }
}
