import Foundation
import GRDB
import Imaging
import Model

/// Why the review database can't be used; `description` is one line for the user.
public struct ReviewStoreError: OneLineError, LocalizedError, Equatable {
    public let message: String
    /// The store's server could not be reached: nothing was written (or, for a lost commit, see the message).
    public let connectionLost: Bool
    public init(_ message: String, connectionLost: Bool = false) { self.message = message; self.connectionLost = connectionLost }
    public var errorDescription: String? { description }
}

/// The review database: SQLite (GRDB) in WAL mode; every write is its own committed transaction,
/// so a kill -9 at any moment loses nothing already acknowledged.
///
/// Durability: WAL + `synchronous = FULL`. With WAL, a commit is in the -wal file (in the OS page cache) before
/// `record` returns, which already survives a process kill; FULL also fsyncs the WAL at every commit, so a
/// decision survives power loss too. It costs one fsync per human keypress and per cached case: cheap.
///
/// Thread safety: one `DatabasePool` serialises writers and lets readers run beside them, so the TUI (main thread)
/// and the inference runner (background thread) may call any method concurrently.
public final class ReviewStore: @unchecked Sendable {
    /// Default file name, placed beside the dataset (its root folder) unless --db is given.
    public static let defaultFileName = "fracview-review.sqlite"

    /// The database file's path as given.
    public let path: String
    let dbWriter: any DatabaseWriter

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
        // A FIFO or a device would block SQLite's open (a FIFO) or be written over: only a regular file, or none.
        if let kind = FileKind.of(path), kind != .regular, kind != .directory {
            throw ReviewStoreError("\(TerminalSafeText.clean(path)) is \(kind.described), not a review database")
        }
        if readOnly {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw ReviewStoreError("no review database at \(path)")
            }
            if isDir.boolValue { throw ReviewStoreError("\(path) is a directory, not a review database") }
        } else {
            try Self.checkWritable(path)
        }
        do {
            dbWriter = try Self.openDatabase(path: path, readOnly: readOnly)
        } catch is OlderSchema {
            // Read-only, and written by an older fracview: read a private copy brought up to date.
            let copy = try Self.readOnlyCopy(of: path)
            dbWriter = copy.queue
            copyDirectory = copy.directory
        } catch let error as ReviewStoreError {
            throw error
        } catch {
            // Read-only media (an immutable folder, a 0444 file of another user): SQLite cannot create the WAL
            // index beside the file. Read a private copy of the database and its WAL instead; nothing is lost.
            let unopenable = [.SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_IOERR]
                .contains((error as? DatabaseError)?.resultCode)
            guard readOnly, unopenable, let copy = try? Self.readOnlyCopy(of: path) else {
                throw Self.describe(error, path: path, action: "open", readOnly: readOnly)
            }
            dbWriter = copy.queue
            copyDirectory = copy.directory
        }
    }

    /// A read-only open found a database of an older schema: it is read from a migrated private copy.
    private struct OlderSchema: Error {}

    /// The private copy a read-only database was read from, removed when the store goes.
    private var copyDirectory: URL?

    deinit {
        if let copyDirectory { try? FileManager.default.removeItem(at: copyDirectory) }
    }

    /// The schema version this fracview writes (`PRAGMA user_version`); a larger one is a newer fracview's.
    static let schemaVersion = 5

    private static func openDatabase(path: String, readOnly: Bool) throws -> any DatabaseWriter {
        var config = Configuration()
        config.readonly = readOnly
        config.label = "fracview-review"
        // Two fracview processes on one file (two reviewers, or a TUI and an export) wait instead of failing.
        config.busyMode = .timeout(5)
        let writer: any DatabaseWriter = readOnly
            ? try DatabaseQueue(path: path, configuration: config)
            : try DatabasePool(path: path, configuration: config)
        try checkIsReviewDatabase(writer, path: path, mustHaveSchema: readOnly)
        try checkNotNewer(writer, path: path)
        if readOnly, try writer.read({ db in try !migrator.hasCompletedMigrations(db) }) { throw OlderSchema() }
        if !readOnly {
            // After GRDB's WAL setup, which sets NORMAL on the pool's single writer connection.
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try migrator.migrate(writer)
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(schemaVersion)") }
        }
        try checkColumns(writer, path: path)
        return writer
    }

    /// Copies the database (and its WAL, which may hold committed decisions) to a private folder and opens that.
    private static func readOnlyCopy(of path: String) throws -> (queue: any DatabaseWriter, directory: URL) {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("fracview-ro-\(getpid())-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        var opened = false
        defer { if !opened { try? fm.removeItem(at: dir) } }
        let copy = dir.appendingPathComponent("review.sqlite").path
        try fm.copyItem(atPath: path, toPath: copy)
        if fm.fileExists(atPath: path + "-wal") { try fm.copyItem(atPath: path + "-wal", toPath: copy + "-wal") }
        var config = Configuration()
        config.label = "fracview-review-copy"
        let queue = try DatabaseQueue(path: copy, configuration: config)
        try checkIsReviewDatabase(queue, path: path, mustHaveSchema: true)
        try checkNotNewer(queue, path: path)
        // An older database is brought up to date in the private copy (the file itself is never written): it is
        // older, not damaged (issue #26).
        try migrator.migrate(queue)
        try checkColumns(queue, path: path)
        opened = true
        return (queue, dir)
    }

    /// Refuses a database written by a newer fracview (an unknown migration, or a larger schema version):
    /// writing to it could damage rows this version does not understand.
    private static func checkNotNewer(_ writer: any DatabaseWriter, path: String) throws {
        let (superseded, version) = try writer.read { db in
            (try db.tableExists("grdb_migrations") && migrator.hasBeenSuperseded(db),
             try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0)
        }
        if superseded || version > schemaVersion {
            throw ReviewStoreError("\(path) was written by a newer fracview (schema \(superseded ? "with unknown migrations" : "v\(version)"), "
                                   + "this one knows v\(schemaVersion)): update fracview to open it")
        }
    }

    /// The columns every read relies on; a database that lacks one is damaged, and is refused here rather than
    /// failing on its first row.
    private static let requiredColumns: [String: [String]] = [
        "session": ["id", "dataset_root", "classes"],
        "decision": ["reviewer", "split", "relative_path", "status", "truth", "predicted", "probabilities",
                     "reviewer_label", "note", "reviewed_at", "weights_id", "role", "read_mode"],
        "history": ["id", "reviewer", "split", "relative_path", "before", "after", "role", "op_id"],
        "prediction_cache": ["image_hash", "weights_id", "probabilities", "attention", "attention_width",
                             "attention_height", "gradcam", "gradcam_width", "gradcam_height"],
    ]

    private static func checkColumns(_ writer: any DatabaseWriter, path: String) throws {
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

    // MARK: Session info

    /// Class names and dataset root recorded for exports (set when a review session starts).
    public func setSessionInfo(datasetRoot: String, classes: [String]) throws {
        let json = try StoreJSON.string(classes)
        try write("save the session info") { db in
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
        let value = try read { db in try DatabaseValue.fetchOne(db, sql: "SELECT classes FROM session WHERE id = 1") }
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
        try read { db in
            try DatabaseValue.fetchOne(db, sql: "SELECT dataset_root FROM session WHERE id = 1").flatMap(String.fromDatabaseValue)
        }
    }

    // MARK: Decisions

    /// Inserts or replaces the decision for (reviewer, split, relativePath) and records it in the undo history.
    public func record(_ decision: ReviewDecision) throws {
        let after = try StoreJSON.string(decision)
        try write("record the decision for \(decision.relativePath)") { db in
            let before = try Self.fetchDecision(db, reviewer: decision.reviewer, role: decision.role, split: decision.split,
                                                relativePath: decision.relativePath)
            try Self.save(db, decision)
            try db.execute(sql: """
                INSERT INTO history (reviewer, role, split, relative_path, before, after, recorded_at, op_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [decision.reviewer, decision.role.rawValue, decision.split, decision.relativePath,
                                 try before.map { try StoreJSON.string($0) }, after,
                                 ReviewTime.string(Date()), UUID().uuidString])
        }
    }

    /// Reverts the reviewer's most recent decision (restoring the case's previous decision, or none);
    /// returns the relative path of the case it affected, or nil if there was nothing to undo.
    @discardableResult
    public func undoLast(reviewer: String, role: ReviewRole) throws -> String? {
        try write("undo the last decision") { db -> String? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, split, relative_path, before FROM history WHERE reviewer = ? AND role = ? ORDER BY id DESC LIMIT 1
                """, arguments: [reviewer, role.rawValue]) else { return nil }
            guard let id: Int64 = row.value("id"), let split: String = row.value("split"),
                  let relativePath: String = row.value("relative_path") else {
                throw ReviewStoreError("the last history row of \(reviewer) is damaged; nothing undone")
            }
            if let beforeJSON: String = row.value("before") {
                let before: ReviewDecision
                do { before = try StoreJSON.decode(ReviewDecision.self, from: beforeJSON) } catch {
                    throw ReviewStoreError("the last history row of \(reviewer) is damaged (\(relativePath)); nothing undone")
                }
                try Self.save(db, before)
            } else {
                try db.execute(sql: "DELETE FROM decision WHERE reviewer = ? AND role = ? AND split = ? AND relative_path = ?",
                               arguments: [reviewer, role.rawValue, split, relativePath])
            }
            try db.execute(sql: "DELETE FROM history WHERE id = ?", arguments: [id])
            return relativePath
        }
    }

    /// Changes whenever a decision is recorded or undone, by this process or another one on the same file: every
    /// write adds a history row (a new largest id), and an undo removes one (the count drops).
    public func changeToken() throws -> String {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS last FROM history")
            return "\(row?.value("n") as Int? ?? 0):\(row?.value("last") as Int64? ?? 0)"
        }
    }

    /// SQLite's integrity check: "ok", or its first finding.
    public func integrityCheck() throws -> String {
        try read { db in
            try DatabaseValue.fetchOne(db, sql: "PRAGMA integrity_check").flatMap(String.fromDatabaseValue) ?? "no answer"
        }
    }

    /// How many decisions `undoLast` can still revert for a reviewer.
    public func undoDepth(reviewer: String, role: ReviewRole) throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM history WHERE reviewer = ? AND role = ?",
                             arguments: [reviewer, role.rawValue]) ?? 0
        }
    }

    /// The reviewer's current decisions in a split, by relative path. A row that cannot be read is left out
    /// (see `readDecisions` for the reasons); one with damaged probabilities comes without them.
    public func decisions(reviewer: String, role: ReviewRole, split: String) throws -> [String: ReviewDecision] {
        let rows = try read { db in
            try Row.fetchAll(db, ReviewDecision.filter(Column("reviewer") == reviewer && Column("role") == role.rawValue
                                                           && Column("split") == split))
        }
        var result: [String: ReviewDecision] = [:]
        for row in rows {
            if case .success(let decision) = Self.decode(row).decision { result[decision.relativePath] = decision }
        }
        return result
    }

    /// Every reader's and adjudicator's current decisions in a split, oldest first; unreadable rows are left out.
    public func teamDecisions(split: String) throws -> [ReviewDecision] {
        let rows = try read { db in
            try Row.fetchAll(db, ReviewDecision.filter(Column("split") == split).order(Column("reviewed_at"), Column.rowID))
        }
        return rows.compactMap { try? Self.decode($0).decision.get() }
    }

    /// `allDecisions`, with one line per row that could not be read in full, naming the row: rows with an unknown
    /// status or time are left out; rows with damaged probabilities are kept without them.
    public func readDecisions(reviewer: String?) throws -> (decisions: [ReviewDecision], problems: [String]) {
        let rows = try read { db in
            let all = ReviewDecision.order(Column("reviewed_at"), Column.rowID)
            return try Row.fetchAll(db, reviewer.map { all.filter(Column("reviewer") == $0) } ?? all)
        }
        let classes = try classes()
        var decisions: [ReviewDecision] = [], problems: [String] = []
        for row in rows {
            let decoded = Self.decode(row)
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
        try read { db in
            try DatabaseValue.fetchAll(db, sql: "SELECT DISTINCT reviewer FROM decision ORDER BY reviewer").compactMap(String.fromDatabaseValue)
        }
    }

    // MARK: Prediction cache

    /// The prediction cached for (image content hash, weights id), in the model's class order, so reopening a
    /// split is instant; nil for none, or for a damaged entry (the runner then recomputes and overwrites it).
    public func cachedPrediction(imageHash: String, weightsID: String) throws -> Prediction? {
        let row = try read { db in
            try Row.fetchOne(db, PredictionCacheRecord.filter(Column("image_hash") == imageHash && Column("weights_id") == weightsID))
        }
        guard let row else { return nil }
        return (try? PredictionCacheRecord(row: row))?.prediction
    }

    public func storePrediction(_ prediction: Prediction, imageHash: String, weightsID: String) throws {
        let record = PredictionCacheRecord(prediction, imageHash: imageHash, weightsID: weightsID)
        try write("cache the prediction") { db in try record.insert(db, onConflict: .replace) }
    }

    // MARK: Internals

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE session (
                  id INTEGER PRIMARY KEY CHECK (id = 1),
                  dataset_root TEXT NOT NULL,
                  classes TEXT NOT NULL,          -- JSON array of class names
                  updated_at TEXT NOT NULL
                );
                CREATE TABLE decision (
                  reviewer TEXT NOT NULL,
                  split TEXT NOT NULL,
                  relative_path TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('accepted', 'flagged', 'relabelled')),
                  truth INTEGER,                  -- NULL = unlabelled
                  predicted INTEGER,
                  probabilities TEXT NOT NULL,    -- JSON array of numbers
                  reviewer_label INTEGER,
                  note TEXT NOT NULL,
                  reviewed_at TEXT NOT NULL,      -- ISO 8601 UTC, milliseconds
                  weights_id TEXT NOT NULL,
                  PRIMARY KEY (reviewer, split, relative_path)
                );
                CREATE TABLE history (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  reviewer TEXT NOT NULL,
                  split TEXT NOT NULL,
                  relative_path TEXT NOT NULL,
                  before TEXT,                    -- JSON decision, NULL = the case had none
                  after TEXT NOT NULL,
                  recorded_at TEXT NOT NULL
                );
                CREATE INDEX history_by_reviewer ON history (reviewer, id);
                CREATE TABLE prediction_cache (
                  image_hash TEXT NOT NULL,       -- SHA-256 hex of the image file bytes
                  weights_id TEXT NOT NULL,
                  probabilities BLOB NOT NULL,    -- Float32 little endian
                  attention BLOB NOT NULL,
                  attention_width INTEGER NOT NULL,
                  attention_height INTEGER NOT NULL,
                  gradcam BLOB,
                  gradcam_width INTEGER,
                  gradcam_height INTEGER,
                  created_at TEXT NOT NULL,
                  PRIMARY KEY (image_hash, weights_id)
                );
                """)
        }
        migrator.registerMigration("v2") { db in
            // Fold ensembles: which members gave a cached prediction and whether the image was held out for them;
            // class names with each decision, so a row is readable whatever order a later model uses.
            try db.execute(sql: """
                ALTER TABLE prediction_cache ADD COLUMN members TEXT;          -- member ids used, comma-separated
                ALTER TABLE prediction_cache ADD COLUMN member_count INTEGER;
                ALTER TABLE prediction_cache ADD COLUMN seen_in_training INTEGER;
                ALTER TABLE prediction_cache ADD COLUMN signatures_known INTEGER;
                ALTER TABLE decision ADD COLUMN truth_class TEXT;
                ALTER TABLE decision ADD COLUMN predicted_class TEXT;
                ALTER TABLE decision ADD COLUMN reviewer_class TEXT;
                UPDATE decision SET
                  truth_class = json_extract((SELECT classes FROM session WHERE id = 1), '$[' || truth || ']'),
                  predicted_class = json_extract((SELECT classes FROM session WHERE id = 1), '$[' || predicted || ']'),
                  reviewer_class = json_extract((SELECT classes FROM session WHERE id = 1), '$[' || reviewer_label || ']');
                """)
        }
        migrator.registerMigration("v3") { db in
            // Teams: a decision is made as a reader (open or blind) or as an adjudicator, and one person may be both,
            // so the role joins the key. SQLite cannot change a primary key in place: the table is rebuilt.
            try db.execute(sql: """
                CREATE TABLE decision_v3 (
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
                  truth_class TEXT,
                  predicted_class TEXT,
                  reviewer_class TEXT,
                  role TEXT NOT NULL DEFAULT 'reader' CHECK (role IN ('reader', 'adjudicator')),
                  read_mode TEXT NOT NULL DEFAULT 'open' CHECK (read_mode IN ('open', 'blind', 'blind-model')),
                  PRIMARY KEY (reviewer, role, split, relative_path)
                );
                INSERT INTO decision_v3 (reviewer, split, relative_path, status, truth, predicted, probabilities,
                                         reviewer_label, note, reviewed_at, weights_id, truth_class, predicted_class,
                                         reviewer_class)
                  SELECT reviewer, split, relative_path, status, truth, predicted, probabilities, reviewer_label, note,
                         reviewed_at, weights_id, truth_class, predicted_class, reviewer_class
                  FROM decision ORDER BY rowid;
                DROP TABLE decision;
                ALTER TABLE decision_v3 RENAME TO decision;
                CREATE INDEX decision_by_split ON decision (split);
                ALTER TABLE history ADD COLUMN role TEXT NOT NULL DEFAULT 'reader';
                ALTER TABLE history ADD COLUMN op_id TEXT;       -- the writer's id of the decision, to settle an unacknowledged commit
                DROP INDEX history_by_reviewer;
                CREATE INDEX history_by_reviewer ON history (reviewer, role, id);
                """)
        }
        migrator.registerMigration("v4") { db in
            // One encoding for probabilities: the cache's Float32 BLOBs become StoreJSON text, like the decisions',
            // in a TEXT column of the same name (added, filled row by row, then put in the old one's place).
            try db.execute(sql: "ALTER TABLE prediction_cache ADD COLUMN probabilities_json TEXT NOT NULL DEFAULT '[]'")
            for row in try Row.fetchAll(db, sql: "SELECT image_hash, weights_id, probabilities FROM prediction_cache") {
                let key: [DatabaseValueConvertible?] = [row.value("image_hash") as String?, row.value("weights_id") as String?]
                // A damaged entry is dropped: the cache is recomputed where it misses.
                guard let probabilities = FloatBlob.decode(row.value("probabilities")),
                      let json = try? StoreJSON.string(probabilities) else {
                    try db.execute(sql: "DELETE FROM prediction_cache WHERE image_hash = ? AND weights_id = ?",
                                   arguments: StatementArguments(key))
                    continue
                }
                try db.execute(sql: "UPDATE prediction_cache SET probabilities_json = ? WHERE image_hash = ? AND weights_id = ?",
                               arguments: StatementArguments([json] + key))
            }
            try db.execute(sql: """
                ALTER TABLE prediction_cache DROP COLUMN probabilities;
                ALTER TABLE prediction_cache RENAME COLUMN probabilities_json TO probabilities;  -- JSON array, model order
                -- The undo history keeps decisions as ReviewDecision's JSON, whose role and read mode are required:
                -- rows written before v3 get the defaults v3 gave their decisions.
                UPDATE history SET before = json_insert(before, '$.role', 'reader', '$.readMode', 'open')
                  WHERE before IS NOT NULL AND json_valid(before) AND json_extract(before, '$.role') IS NULL;
                UPDATE history SET after = json_insert(after, '$.role', 'reader', '$.readMode', 'open')
                  WHERE json_valid(after) AND json_extract(after, '$.role') IS NULL;
                """)
        }
        migrator.registerMigration("v5") { db in
            // The pipeline's stages: the localiser's boxes, JSON [[x0, y0, x1, y1, score], …], and the crop
            // classifiers' crop and maps (NULL for a model without them). No SQL comment in the statements: SQLite
            // keeps it in the table's stored definition.
            try db.execute(sql: "ALTER TABLE prediction_cache ADD COLUMN detections TEXT")
            try db.execute(sql: "ALTER TABLE prediction_cache ADD COLUMN crop TEXT")
        }
        return migrator
    }()

    private static let ownTables: Set<String> = ["session", "decision", "history", "prediction_cache"]

    /// Refuses to add tables to some other application's database passed by mistake as --db.
    private static func checkIsReviewDatabase(_ writer: any DatabaseWriter, path: String, mustHaveSchema: Bool) throws {
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

    /// Checks the location before SQLite sees it, so the message says what is wrong instead of "unable to open".
    private static func checkWritable(_ path: String) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        let prefix = "cannot write review database at \(path)"
        guard fm.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw ReviewStoreError("\(prefix): directory \(dir) does not exist")
        }
        guard isDir.boolValue else { throw ReviewStoreError("\(prefix): \(dir) is not a directory") }
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ReviewStoreError("\(prefix): it is a directory") }
            let fd = open(path, O_RDWR)
            if fd < 0 { throw ReviewStoreError("\(prefix): \(errnoText())") }
            close(fd)
        }
        // WAL needs to create <db>-wal and <db>-shm beside the file: probe the directory itself. (access(2) is not
        // enough: it says yes to root on a read-only directory, and to anyone on some virtual file systems.)
        let probe = url.deletingLastPathComponent()
            .appendingPathComponent(".fracview-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 { throw ReviewStoreError("\(prefix): \(errnoText())") }
        close(fd)
        unlink(probe)
    }

    private static func errnoText() -> String {
        switch errno {
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "read-only file system"
        case ENOENT: return "no such file or directory"
        case ENOSPC: return "no space left on device"
        default: return String(cString: strerror(errno)).lowercased()
        }
    }

    private static func describe(_ error: Error, path: String, action: String, readOnly: Bool = false) -> ReviewStoreError {
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

    private func write<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do { return try dbWriter.write(body) } catch { throw Self.describe(error, path: path, action: action) }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try dbWriter.read(body) } catch { throw Self.describe(error, path: path, action: "read") }
    }

    private static func fetchDecision(_ db: Database, reviewer: String, role: ReviewRole, split: String,
                                      relativePath: String) throws -> ReviewDecision? {
        try Row.fetchOne(db, ReviewDecision.filter(Column("reviewer") == reviewer && Column("role") == role.rawValue
                                                       && Column("split") == split && Column("relative_path") == relativePath))
            .map { try decode($0).decision.get() }
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
            WHERE reviewer = ? AND role = ? AND split = ? AND relative_path = ?
            """, arguments: [d.reviewer, d.role.rawValue, d.split, d.relativePath])
    }

    /// A row as a decision, through the Codable record; a row that cannot be read names itself and its first bad
    /// column, and is left out. Damaged probabilities are the exception: the decision is kept without them
    /// (`problem`), since the reviewer's call is what matters.
    static func decode(_ row: Row) -> (decision: Result<ReviewDecision, ReviewStoreError>, problem: String?) {
        let path = row.value("relative_path") as String? ?? "?"
        let reviewer = row.value("reviewer") as String? ?? "?"
        let name = "review database row \(path) (reviewer \(reviewer))"
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
            trial[column] = Self.harmless[key]
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
        .relativePath: "?".databaseValue, .split: "?".databaseValue, .reviewer: "?".databaseValue,
        .status: ReviewStatus.flagged.databaseValue, .truth: .null, .predicted: .null, .probabilities: "[]".databaseValue,
        .reviewerLabel: .null, .note: "".databaseValue, .reviewedAt: ReviewTime.string(Date(timeIntervalSince1970: 0)).databaseValue,
        .weightsID: "".databaseValue, .role: ReviewRole.reader.databaseValue, .readMode: ReadMode.open.databaseValue,
    ]
}

private extension Row {
    /// A column's value, or nil when the column is missing, NULL or of another type. GRDB's typed subscripts
    /// trap in those cases, and a damaged or crafted database must give an error, not a crash.
    func value<T: DatabaseValueConvertible>(_ column: String) -> T? {
        guard hasColumn(column) else { return nil }
        return T.fromDatabaseValue(self[column] as DatabaseValue)
    }
}
