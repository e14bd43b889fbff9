import Foundation

/// How fracview proves who it is to a PACS: HTTP Basic (from the URL or `~/.netrc`) or a bearer token (from an
/// environment variable). The secret is only ever put into the Authorization header: `description` never shows it,
/// and nothing stores it.
public enum DICOMwebCredentials: Sendable, Equatable, CustomStringConvertible {
    case none
    case basic(user: String, password: String)
    case bearer(token: String)

    /// The environment variable a bearer token is read from.
    public static let tokenVariable = "FRACVIEW_DICOMWEB_TOKEN"

    /// The URL's user and password first (what the user typed for this run), then a bearer token from the
    /// environment, then the netrc entry for the host (`$NETRC`, else `~/.netrc`), else none.
    public static func resolve(for server: DICOMwebServer, environment: [String: String]) -> DICOMwebCredentials {
        if let info = server.userInfo { return .basic(user: info.user, password: info.password) }
        if let token = environment[tokenVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return .bearer(token: token)
        }
        let netrcPath = environment["NETRC"] ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString)
            .appendingPathComponent(".netrc")
        if let host = server.root.host, let entry = NetrcFile.read(path: netrcPath)?.entry(for: host) {
            return .basic(user: entry.login, password: entry.password)
        }
        return .none
    }

    /// The Authorization header's value, or nil.
    var authorization: String? {
        switch self {
        case .none: return nil
        case .basic(let user, let password): return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .bearer(let token): return "Bearer " + token
        }
    }

    /// For messages: the kind and the user, never the secret.
    public var description: String {
        switch self {
        case .none: return "no credentials"
        case .basic(let user, _): return "HTTP Basic as \(user)"
        case .bearer: return "a bearer token from $\(Self.tokenVariable)"
        }
    }
}
