import Foundation
import GRDB

/// One change of the review database's schema, in both stores' dialects side by side: SQLite's (run by GRDB's
/// `DatabaseMigrator`, in one transaction) and PostgreSQL's (run by `PostgresReviewStore`, in one transaction, and
/// recorded in `schema_migrations`). Both stores apply the same list under the same ids, so they cannot drift apart.
struct StoreMigration: Sendable {
    let id: String
    /// Code rather than a statement list: a migration may need more than SQL (v4 converts cache rows one by one).
    let sqlite: @Sendable (Database) throws -> Void
    let postgres: [String]
}

/// The schema's migrations, oldest first. A change to the schema is a new migration at the end, in both dialects,
/// with `schemaVersion` raised to its number; a migration already released is never edited (databases have run it).
enum StoreMigrations {
    /// The schema version this fracview writes (SQLite's `PRAGMA user_version`): the last migration's number. A larger
    /// one is a newer fracview's.
    static let schemaVersion = 6

    static let all: [StoreMigration] = [v1, v2, v3, v4, v5, v6]

    static let v1 = StoreMigration(
        id: "v1",
        sqlite: { db in
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
        },
        postgres: [
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
        ])

    static let v2 = StoreMigration(
        id: "v2",
        sqlite: { db in
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
        },
        postgres: [
            // The prediction cache is not on the server: only the decisions' class names.
            "ALTER TABLE decision ADD COLUMN truth_class TEXT, ADD COLUMN predicted_class TEXT, ADD COLUMN reviewer_class TEXT",
        ])

    static let v3 = StoreMigration(
        id: "v3",
        sqlite: { db in
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
        },
        postgres: [
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
        ])

    static let v4 = StoreMigration(
        id: "v4",
        sqlite: { db in
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
        },
        postgres: [
            // The history's role and read mode, as in SQLite; the cache's probabilities are not on the server.
            """
            UPDATE history SET before = (jsonb_build_object('role', 'reader', 'readMode', 'open') || before::jsonb)::text
            WHERE before IS NOT NULL AND NOT (before::jsonb ? 'role')
            """,
            """
            UPDATE history SET after = (jsonb_build_object('role', 'reader', 'readMode', 'open') || after::jsonb)::text
            WHERE NOT (after::jsonb ? 'role')
            """,
        ])

    static let v5 = StoreMigration(
        id: "v5",
        sqlite: { db in
            // The pipeline's stages: the localiser's boxes, JSON [[x0, y0, x1, y1, score], …], and the crop
            // classifiers' crop and maps (NULL for a model without them). No SQL comment in the statements: SQLite
            // keeps it in the table's stored definition.
            try db.execute(sql: "ALTER TABLE prediction_cache ADD COLUMN detections TEXT")
            try db.execute(sql: "ALTER TABLE prediction_cache ADD COLUMN crop TEXT")
        },
        // Only the prediction cache changed, and it is not on the server (it is per machine): the id is recorded
        // all the same, so that both stores know the same migrations.
        postgres: [])

    static let v6 = StoreMigration(
        id: "v6",
        // The decision key is a case id, not a file path (a PACS case's is a DICOMweb URL): the key column is renamed,
        // and so is the key in the undo history's decisions, ReviewDecision's JSON (`relativePath` → `caseID`).
        // Renaming keeps the primary keys and indexes, which follow the column.
        sqlite: { db in
            try db.execute(sql: """
                ALTER TABLE decision RENAME COLUMN relative_path TO case_id;
                ALTER TABLE history RENAME COLUMN relative_path TO case_id;
                UPDATE history
                  SET before = json_set(json_remove(before, '$.relativePath'), '$.caseID', json_extract(before, '$.relativePath'))
                  WHERE before IS NOT NULL AND json_valid(before) AND json_type(before, '$.relativePath') IS NOT NULL;
                UPDATE history
                  SET after = json_set(json_remove(after, '$.relativePath'), '$.caseID', json_extract(after, '$.relativePath'))
                  WHERE json_valid(after) AND json_type(after, '$.relativePath') IS NOT NULL;
                """)
        },
        postgres: [
            "ALTER TABLE decision RENAME COLUMN relative_path TO case_id",
            "ALTER TABLE history RENAME COLUMN relative_path TO case_id",
            """
            UPDATE history
            SET before = ((before::jsonb - 'relativePath') || jsonb_build_object('caseID', before::jsonb -> 'relativePath'))::text
            WHERE before IS NOT NULL AND before::jsonb ? 'relativePath'
            """,
            """
            UPDATE history
            SET after = ((after::jsonb - 'relativePath') || jsonb_build_object('caseID', after::jsonb -> 'relativePath'))::text
            WHERE after::jsonb ? 'relativePath'
            """,
        ])
}
