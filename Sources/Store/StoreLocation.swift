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

    public init(_ uri: String) {
        self.uri = uri
        // postgres://user:password@host:port/db?… — the userinfo ends at the last '@' before the path.
        var display = uri, password: String?
        if let schemeEnd = uri.range(of: "://") {
            let rest = uri[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                if let colon = userinfo.firstIndex(of: ":") {
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
                password = password ?? parameters.first { $0.lowercased().hasPrefix("password=") }
                    .map { String($0.dropFirst("password=".count)).removingPercentEncoding ?? String($0.dropFirst(9)) }
                display = String(head) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
            }
        }
        self.display = TerminalSafeText.clean(display)
        self.password = password
    }

    /// A server or libpq message with the password (if it ever appears) replaced, on one line.
    func clean(_ message: String) -> String {
        var text = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        if let password, !password.isEmpty { text = text.replacingOccurrences(of: password, with: "***") }
        return TerminalSafeText.clean(text)
    }
}
