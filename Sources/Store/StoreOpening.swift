import Foundation

/// Opens what `--db` names as the decision store: an SQLite file or a PostgreSQL URL.
public enum StoreOpening {
    /// `readOnly` applies to SQLite (exports from read-only media); a PostgreSQL store is opened the same way for
    /// reading and writing (its privileges are the server's business).
    public static func open(_ text: String, readOnly: Bool = false) throws -> DecisionStore {
        try openWithCache(text, readOnly: readOnly).decisions
    }

    /// The decision store, and the prediction cache in the same SQLite file; nil for a PostgreSQL store, since the
    /// cache is per machine and stays local: the caller opens a local file for it (`SQLitePredictionCache`).
    public static func openWithCache(_ text: String, readOnly: Bool = false) throws
        -> (decisions: DecisionStore, predictionCache: PredictionCache?) {
        switch StoreLocation.parse(text) {
        case .sqlite(let path):
            let store = try ReviewStore(path: path, readOnly: readOnly)
            return (store, store.predictionCache)
        case .postgres(let url):
            return (try PostgresReviewStore(url: url), nil)
        }
    }
}
