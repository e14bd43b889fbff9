import Foundation
import GRDB

/// The stores' GRDB records share one convention: each coding key is stored in the column of its snake_case name,
/// dates are `ReviewTime`'s ISO 8601 text, and JSON values (probabilities) go through `StoreJSON`.
public protocol StoreRecord: FetchableRecord, PersistableRecord {
    /// The coding keys, each stored in the column of its snake_case name.
    associatedtype StoredKeys: CodingKey & CaseIterable
}

/// Column names of coding keys: "caseID" → "case_id", "weightsID" → "weights_id", "reviewedAt" → "reviewed_at".
enum StoreColumns {
    static func snakeCase(_ name: String) -> String {
        var out = ""
        var previousWasLower = false
        for ch in name {
            if ch.isUppercase && previousWasLower { out.append("_") }
            out.append(contentsOf: ch.lowercased())
            previousWasLower = ch.isLowercase || ch.isNumber
        }
        return out
    }

    /// Coding key by column for one record type, built once per type (GRDB asks per column of every row).
    static func keys<K: CodingKey & CaseIterable>(_: K.Type) -> [String: any CodingKey] {
        lock.lock(); defer { lock.unlock() }
        let id = ObjectIdentifier(K.self)
        if let known = cache[id] { return known }
        let made = Dictionary(uniqueKeysWithValues: K.allCases.map { (snakeCase($0.stringValue), $0 as any CodingKey) })
        cache[id] = made
        return made
    }
    nonisolated(unsafe) private static var cache: [ObjectIdentifier: [String: any CodingKey]] = [:]
    private static let lock = NSLock()
}

/// A column no coding key names (the decision's class-name columns): decoding ignores it.
struct ColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension StoreRecord {
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy {
        .custom { StoreColumns.snakeCase($0.stringValue) }
    }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy {
        .custom { column in StoreColumns.keys(StoredKeys.self)[column] ?? ColumnKey(stringValue: column) }
    }
    public static var databaseDateEncodingStrategy: DatabaseDateEncodingStrategy { .custom { ReviewTime.string($0) } }
    public static var databaseDateDecodingStrategy: DatabaseDateDecodingStrategy {
        .custom { String.fromDatabaseValue($0).flatMap(ReviewTime.date) }
    }
    public static func databaseJSONEncoder(for column: String) -> JSONEncoder { StoreJSON.encoder }
    public static func databaseJSONDecoder(for column: String) -> JSONDecoder { StoreJSON.decoder }
}
