import Basics
import CPQ
import Foundation
import Model

/// One libpq connection, synchronous (the review loop waits for every commit anyway). Not thread-safe by itself:
/// `PostgresReviewStore` serialises its use.
///
/// libpq, not PostgresNIO: its blocking calls fit a store whose every write must be committed before the screen
/// changes, it reads PG* variables, ~/.pgpass and pg_service.conf exactly as psql does, and it builds in no time.
final class PostgresConnection {
    private var handle: OpaquePointer?
    let url: PostgresURL

    /// A failed statement: the server's SQLSTATE (nil when the connection itself failed) and its message.
    struct Failure: OneLineError {
        let sqlState: String?
        let message: String
    }

    /// Rows as text (nil = NULL), by column name.
    struct Rows {
        let columns: [String]
        let values: [[String?]]
        func value(_ row: Int, _ column: String) -> String? {
            guard let c = columns.firstIndex(of: column), values.indices.contains(row) else { return nil }
            return values[row][c]
        }
        var count: Int { values.count }
    }

    init(url: PostgresURL) throws {
        self.url = url
        try connect()
    }

    deinit { if let handle { PQfinish(handle) } }

    /// Opens the connection. The URL's own settings win over these defaults (libpq keeps the last value of a key,
    /// and the URL, as `dbname`, is expanded last): a short connect timeout and TCP keepalives, so that a server
    /// that went away is noticed in seconds, not at the kernel's TCP timeout.
    func connect() throws {
        if let handle { PQfinish(handle); self.handle = nil }
        let settings: [(String, String)] = [
            ("connect_timeout", "3"), ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"),
            ("keepalives_count", "2"), ("tcp_user_timeout", "10000"), ("application_name", "fracview"),
            ("dbname", url.uri),
        ]
        let keys = settings.map { strdup($0.0) }, values = settings.map { strdup($0.1) }
        defer { keys.forEach { free($0) }; values.forEach { free($0) } }
        var keyPointers = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers = values.map { UnsafePointer($0) } + [nil]
        let connection = PQconnectdbParams(&keyPointers, &valuePointers, 1)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw Failure(sqlState: nil, message: url.clean(message))
        }
        handle = connection
        // Notices (e.g. "relation already exists, skipping") would go to stderr under the TUI.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    /// Sends a statement and drops the connection without reading the answer: what a network failure right after
    /// the send looks like to the client (the tests' fault injection for an unacknowledged COMMIT).
    func sendAndDrop(_ sql: String) {
        guard let handle else { return }
        if PQsendQuery(handle, sql) == 1 { while PQflush(handle) == 1 {} }
        close()
    }

    /// Drops a connection the server has ended, so that the next call reconnects.
    func close() {
        if let handle { PQfinish(handle); self.handle = nil }
    }

    /// The server process serving this connection (0 when not connected).
    var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Whether a failure means the connection is gone: libpq says so, or the server ended the session (SQLSTATE
    /// class 08, connection exception; 57P01–57P03, shutdown or restart).
    func lostConnection(_ failure: Failure) -> Bool {
        if !isConnected { return true }
        guard let state = failure.sqlState else { return false }
        return state.hasPrefix("08") || state.hasPrefix("57P")
    }

    /// Runs one statement with text parameters ($1, $2, …) and returns its rows.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws -> Rows {
        guard let handle else { throw Failure(sqlState: nil, message: "not connected") }
        // libpq takes C strings: a NUL would cut a value, so it is shown as ␀ (notes are text).
        let copies = parameters.map { $0.map { strdup($0.replacingOccurrences(of: "\u{0}", with: "\u{2400}")) } ?? nil }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { $0.map { UnsafePointer($0) } }
        let result = PQexecParams(handle, sql, Int32(parameters.count), nil, &pointers, nil, nil, 0)
        defer { PQclear(result) }
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
            let message = result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) }
                .flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: PQerrorMessage(handle))
            throw Failure(sqlState: isConnected ? state : nil, message: url.clean(message))
        }
        guard status == PGRES_TUPLES_OK, let result else { return Rows(columns: [], values: []) }
        let columnCount = PQnfields(result), rowCount = PQntuples(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        var values: [[String?]] = []
        values.reserveCapacity(Int(rowCount))
        for r in 0..<rowCount {
            values.append((0..<columnCount).map { c in
                PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
            })
        }
        return Rows(columns: columns, values: values)
    }

    /// The server's version, e.g. "15.18".
    var serverVersion: String {
        guard let handle else { return "?" }
        let v = Int(PQserverVersion(handle))
        return "\(v / 10000).\(v % 10000)"
    }
}
