import Foundation
import GRDB
import Model

/// The model's predictions by (image content hash, weights id), so reopening a split is instant: a renamed image
/// still hits, an edited image or other weights miss. Always a local SQLite file, even for a team on PostgreSQL: it
/// is per machine and per weights, and large.
public protocol PredictionCache: AnyObject, Sendable {
    /// The cached prediction, in the model's class order; nil for none, or for a damaged entry (the runner then
    /// recomputes and overwrites it).
    func cachedPrediction(imageHash: String, weightsID: String) throws -> Prediction?
    func storePrediction(_ prediction: Prediction, imageHash: String, weightsID: String) throws
}

/// The cache in the review database's `prediction_cache` table (`PredictionCacheRecord` rows): in the decisions'
/// own file (`ReviewStore.predictionCache`) or, beside a PostgreSQL store, in a local one.
public final class SQLitePredictionCache: PredictionCache, @unchecked Sendable {
    private let database: ReviewDatabase

    /// Opens or creates a review database file for its cache (the same checks and migrations as `ReviewStore`'s).
    public convenience init(path: String, readOnly: Bool = false) throws {
        self.init(database: try ReviewDatabase(path: path, readOnly: readOnly))
    }

    init(database: ReviewDatabase) { self.database = database }

    public func cachedPrediction(imageHash: String, weightsID: String) throws -> Prediction? {
        let row = try database.read { db in
            try Row.fetchOne(db, PredictionCacheRecord.filter(Column("image_hash") == imageHash && Column("weights_id") == weightsID))
        }
        guard let row else { return nil }
        return (try? PredictionCacheRecord(row: row))?.prediction
    }

    public func storePrediction(_ prediction: Prediction, imageHash: String, weightsID: String) throws {
        let record = PredictionCacheRecord(prediction, imageHash: imageHash, weightsID: weightsID)
        try database.write("cache the prediction") { db in try record.insert(db, onConflict: .replace) }
    }
}
