import Foundation
import GRDB

/// A decision is a row of `decision` through GRDB's Codable records: each coding key in the column of its
/// snake_case name, probabilities as `StoreJSON` text, the time as `ReviewTime`'s ISO 8601 text. The class-name
/// columns (v2) are filled by the store from the session's classes.
extension ReviewDecision: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "decision"

    /// The note is read as a BLOB under its own name: GRDB reads TEXT through a C string, which would cut a note at
    /// a NUL byte (the store then shows the NUL as ␀).
    public static let databaseSelection: [any SQLSelectable] = [
        .allColumns(excluding: ["note"]), cast(Column("note"), as: .blob).forKey("note"),
    ]

    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.custom { key in
        CodingKeys.snakeCase(key.stringValue)
    }
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.custom { column in
        CodingKeys.byColumn[column] ?? ColumnKey(stringValue: column)
    }
    public static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.custom { ReviewTime.string($0) }
    public static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.custom { value in
        String.fromDatabaseValue(value).flatMap(ReviewTime.date)
    }
    public static func databaseJSONEncoder(for column: String) -> JSONEncoder { StoreJSON.encoder }
    public static func databaseJSONDecoder(for column: String) -> JSONDecoder { StoreJSON.decoder }
}

extension ReviewDecision.CodingKeys {
    static let byColumn: [String: any CodingKey] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.column, $0) })
}

/// A column no coding key names (the class-name columns): decoding ignores it.
struct ColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

// Stored as their raw values; an unknown one makes the row unreadable rather than some other value.
extension ReviewStatus: DatabaseValueConvertible {}
extension ReviewRole: DatabaseValueConvertible {}
extension ReadMode: DatabaseValueConvertible {}
