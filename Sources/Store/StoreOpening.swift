import Foundation

/// Opens what `--db` names as the decision store: an SQLite file or a PostgreSQL URL.
public enum StoreOpening {
    /// `readOnly` applies to SQLite (exports from read-only media); a PostgreSQL store is opened the same way for
    /// reading and writing (its privileges are the server's business).
    public static func open(_ text: String, readOnly: Bool = false) throws -> DecisionStore {
        switch StoreLocation.parse(text) {
        case .sqlite(let path): return try ReviewStore(path: path, readOnly: readOnly)
        case .postgres(let url): return try PostgresReviewStore(url: url)
        }
    }
}
