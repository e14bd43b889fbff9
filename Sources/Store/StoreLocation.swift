import Basics
import Foundation
import Imaging

/// What `--db` names: an SQLite file (one machine, the default) or a PostgreSQL server (a team).
public enum StoreLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(PostgresURL)

    /// `postgres://…` or `postgresql://…` is a server; anything else is a file path.
    public static func parse(_ text: String) -> StoreLocation {
        let lower = text.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") { return .postgres(PostgresURL(text)) }
        return .sqlite(path: text)
    }

    /// For messages: the path, or the URL without its password.
    public var display: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return url.display
        }
    }
}

/// A libpq connection URI. libpq reads it as given, and fills what it leaves out (user, password, host, port,
/// database) from the standard PG* variables and ~/.pgpass. `display` never holds the password.
public struct PostgresURL: Equatable, Sendable {
    /// The URI exactly as given, for libpq.
    public let uri: String
    /// The URI without its password, for every message.
    public let display: String
    /// The password in the URI, so that a server message that echoes it can be cleaned (nil when none).
    let password: String?
    /// The userinfo (user:password) and the password as written, percent-encoding and all: libpq's URI errors
    /// quote the text as given (`forbidden value %00 in percent-encoded value: "S3CRET%00PW"`).
    let rawUserinfo: String?, rawPassword: String?

    public init(_ uri: String) {
        self.uri = uri
        // postgres://user:password@host:port/db?… — the userinfo ends at the last '@' before the path.
        var display = uri, password: String?, rawUserinfo: String?, rawPassword: String?
        if let schemeEnd = uri.range(of: "://") {
            let rest = uri[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                rawUserinfo = String(userinfo)
                if let colon = userinfo.firstIndex(of: ":") {
                    rawPassword = String(userinfo[userinfo.index(after: colon)...])
                    password = String(userinfo[userinfo.index(after: colon)...]).removingPercentEncoding
                        ?? String(userinfo[userinfo.index(after: colon)...])
                    display = String(uri[..<schemeEnd.upperBound]) + userinfo[..<colon] + authority[at...] + rest[authorityEnd...]
                }
            }
        }
        // A password given as a query parameter (?password=…) is removed too.
        if let query = display.firstIndex(of: "?") {
            let head = display[..<query]
            let parameters = display[display.index(after: query)...].split(separator: "&")
            let kept = parameters.filter { !$0.lowercased().hasPrefix("password=") }
            if kept.count != parameters.count {
                let raw = parameters.first { $0.lowercased().hasPrefix("password=") }.map { String($0.dropFirst("password=".count)) }
                rawPassword = rawPassword ?? raw
                password = password ?? raw.map { $0.removingPercentEncoding ?? $0 }
                display = String(head) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
            }
        }
        self.display = TerminalSafeText.clean(display)
        self.password = password
        self.rawUserinfo = rawUserinfo
        self.rawPassword = rawPassword
    }

    /// A server or libpq message with the password (if it ever appears) replaced, on one line.
    func clean(_ message: String) -> String {
        var text = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        for secret in [password, rawPassword].compactMap({ $0 }).filter({ !$0.isEmpty }) {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        // A quoted fragment of the userinfo (libpq quotes the part of the URI it could not read) is hidden whole.
        if let rawUserinfo, !rawUserinfo.isEmpty {
            let pieces = text.components(separatedBy: "\"")
            text = pieces.enumerated().map { i, piece in
                i % 2 == 1 && !piece.isEmpty && (rawUserinfo.contains(piece) || piece.contains("***")) ? "***" : piece
            }.joined(separator: "\"")
        }
        return TerminalSafeText.clean(text)
    }
}
