import Basics
import Foundation
import GRDB

/// The review database's SQLite file, which the decisions (`ReviewStore`) and the prediction cache
/// (`SQLitePredictionCache`) share: opened in WAL mode, brought up to date by `StoreMigrations`, and checked before
/// use (`ReviewDatabaseForensics`).
///
/// Durability: WAL + `synchronous = FULL`. With WAL, a commit is in the -wal file (in the OS page cache) before a
/// write returns, which already survives a process kill; FULL also fsyncs the WAL at every commit, so a decision
/// survives power loss too. It costs one fsync per human keypress and per cached case: cheap.
///
/// Thread safety: one `DatabasePool` serialises writers and lets readers run beside them, so the TUI (main thread)
/// and the inference runner (background thread) may use it concurrently.
final class ReviewDatabase: @unchecked Sendable {
    /// The database file's path as given.
    let path: String
    let writer: any DatabaseWriter

    /// The private copy a read-only database was read from, removed when the database goes.
    private var copyDirectory: URL?

    /// Opens or creates the database. `readOnly`: open an existing database without writing (for exports from
    /// read-only media); it must exist and be a fracview review database. Throws a one-line error.
    init(path: String, readOnly: Bool) throws {
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
            writer = try Self.openDatabase(path: path, readOnly: readOnly)
        } catch is OlderSchema {
            // Read-only, and written by an older fracview: read a private copy brought up to date.
            let copy = try Self.readOnlyCopy(of: path)
            writer = copy.queue
            copyDirectory = copy.directory
        } catch let error as ReviewStoreError {
            throw error
        } catch {
            // Read-only media (an immutable folder, a 0444 file of another user): SQLite cannot create the WAL
            // index beside the file. Read a private copy of the database and its WAL instead; nothing is lost.
            let unopenable = [.SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_IOERR]
                .contains((error as? DatabaseError)?.resultCode)
            guard readOnly, unopenable, let copy = try? Self.readOnlyCopy(of: path) else {
                throw ReviewDatabaseForensics.describe(error, path: path, action: "open", readOnly: readOnly)
            }
            writer = copy.queue
            copyDirectory = copy.directory
        }
    }

    deinit {
        if let copyDirectory { try? FileManager.default.removeItem(at: copyDirectory) }
    }

    /// `StoreMigrations` as GRDB migrations, one per id.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        for migration in StoreMigrations.all { migrator.registerMigration(migration.id, migrate: migration.sqlite) }
        return migrator
    }()

    /// One write transaction; errors become one line that names the file and the action.
    func write<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do { return try writer.write(body) } catch {
            throw ReviewDatabaseForensics.describe(error, path: path, action: action)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch { throw ReviewDatabaseForensics.describe(error, path: path, action: "read") }
    }

    /// A read-only open found a database of an older schema: it is read from a migrated private copy.
    private struct OlderSchema: Error {}

    private static func openDatabase(path: String, readOnly: Bool) throws -> any DatabaseWriter {
        var config = Configuration()
        config.readonly = readOnly
        config.label = "fracview-review"
        // Two fracview processes on one file (two reviewers, or a TUI and an export) wait instead of failing.
        config.busyMode = .timeout(5)
        let writer: any DatabaseWriter = readOnly
            ? try DatabaseQueue(path: path, configuration: config)
            : try DatabasePool(path: path, configuration: config)
        try ReviewDatabaseForensics.checkIsReviewDatabase(writer, path: path, mustHaveSchema: readOnly)
        try ReviewDatabaseForensics.checkNotNewer(writer, path: path)
        if readOnly, try writer.read({ db in try !migrator.hasCompletedMigrations(db) }) { throw OlderSchema() }
        if !readOnly {
            // After GRDB's WAL setup, which sets NORMAL on the pool's single writer connection.
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try migrator.migrate(writer)
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA user_version = \(StoreMigrations.schemaVersion)")
            }
        }
        try ReviewDatabaseForensics.checkColumns(writer, path: path)
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
        try ReviewDatabaseForensics.checkIsReviewDatabase(queue, path: path, mustHaveSchema: true)
        try ReviewDatabaseForensics.checkNotNewer(queue, path: path)
        // An older database is brought up to date in the private copy (the file itself is never written): it is
        // older, not damaged (issue #26).
        try migrator.migrate(queue)
        try ReviewDatabaseForensics.checkColumns(queue, path: path)
        opened = true
        return (queue, dir)
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
}
