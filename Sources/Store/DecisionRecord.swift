import Foundation
import GRDB

/// A decision is a row of `decision` through GRDB's Codable records (`StoreRecord`'s conventions). The class-name
/// columns (v2) are filled by the store from the session's classes.
extension ReviewDecision: StoreRecord {
    public typealias StoredKeys = CodingKeys
    public static let databaseTableName = "decision"

    /// The note is read as a BLOB under its own name: GRDB reads TEXT through a C string, which would cut a note at
    /// a NUL byte (the store then shows the NUL as ␀).
    public static let databaseSelection: [any SQLSelectable] = [
        .allColumns(excluding: ["note"]), cast(Column("note"), as: .blob).forKey("note"),
    ]
}

// Stored as their raw values; an unknown one makes the row unreadable rather than some other value.
extension ReviewStatus: DatabaseValueConvertible {}
extension ReviewRole: DatabaseValueConvertible {}
extension ReadMode: DatabaseValueConvertible {}
