import Basics
import Foundation
import Model

/// A PACS's DICOMweb root as the user named it (`http[s]://[user:password@]host[:port]/root`): the URL requests go
/// to, with the credentials taken out of it, and the form every message shows (never with a password).
public struct DICOMwebServer: Sendable, Equatable {
    /// The root without user information or a trailing slash, e.g. http://127.0.0.1:8042/dicom-web.
    public let root: URL
    /// scheme://host[:port]/root: what errors, the case keys and the sent-findings ledger name.
    public let display: String
    /// From the URL's user information, when it has any.
    let userInfo: (user: String, password: String)?

    /// Whether `text` names a DICOMweb server rather than a dataset folder.
    public static func isServerURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    public init(_ text: String) throws {
        guard Self.isServerURL(text), var parts = URLComponents(string: text), let host = parts.host, !host.isEmpty else {
            throw PACSError("not a DICOMweb URL: \(Self.redacted(text)) (expected http[s]://host[:port]/root)")
        }
        if let user = parts.user {
            userInfo = (user.removingPercentEncoding ?? user, (parts.password ?? "").removingPercentEncoding ?? "")
        } else {
            userInfo = nil
        }
        parts.user = nil
        parts.password = nil
        parts.query = nil
        parts.fragment = nil
        while parts.path.hasSuffix("/") { parts.path.removeLast() }
        guard let url = parts.url else { throw PACSError("not a DICOMweb URL: \(Self.redacted(text))") }
        root = url
        display = url.absoluteString
    }

    public static func == (a: DICOMwebServer, b: DICOMwebServer) -> Bool { a.root == b.root }

    /// `text` with any password replaced by "***" (for the one error that must quote what the user typed).
    public static func redacted(_ text: String) -> String {
        guard let at = text.range(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound <= at.lowerBound else {
            return text
        }
        let userInfo = text[scheme.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at.lowerBound...])
    }

    /// A path below the root: `studies/1.2.3/instances`.
    func url(_ path: String, query: [(String, String)] = []) -> URL {
        var parts = URLComponents(url: root.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { parts.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        // URLComponents leaves "+" alone, which servers read as a space (a date range never has one, a name may).
        parts.percentEncodedQuery = parts.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return parts.url!
    }
}

/// A one-line error of the PACS client: what failed, with the server named without its password.
public struct PACSError: OneLineError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
