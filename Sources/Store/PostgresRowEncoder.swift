import Foundation

/// A record as a PostgreSQL row's text parameters, in the columns `PostgresRowDecoder` reads back: each coding key's
/// value in the column of its snake_case name. Texts, enums' raw values and `ReviewTime` dates are the text itself,
/// numbers as JSON writes them, and arrays and objects (probabilities) `StoreJSON` text, as in SQLite.
enum PostgresRowEncoder {
    /// Every stored key's column, in coding-key order, with its text (nil: NULL). A key the record leaves out (a nil
    /// optional) is NULL: an upsert must clear what a previous decision set.
    static func columns<Record: StoreRecord & Encodable>(_ record: Record) throws -> [(column: String, value: String?)] {
        let encoder = RowEncoder()
        try record.encode(to: encoder)
        return Record.StoredKeys.allCases.map { key in
            let column = StoreColumns.snakeCase(key.stringValue)
            return (column, encoder.values[column] ?? nil)
        }
    }

    /// One value as its column's text.
    static func text<T: Encodable>(_ value: T) throws -> String? {
        let json = try StoreJSON.string(value)
        if json == "null" { return nil }
        if json.hasPrefix("\"") { return try StoreJSON.decode(String.self, from: json) }
        return json
    }
}

/// Collects a flat record's values by column. Store records are flat (a nested value is one column's JSON), so the
/// nested and unkeyed containers are never asked for.
private final class RowEncoder: Encoder {
    var values: [String: String?] = [:]
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowEncodingContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { preconditionFailure("a store record is keyed") }
    func singleValueContainer() -> any SingleValueEncodingContainer { preconditionFailure("a store record is keyed") }
}

private struct RowEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: RowEncoder
    var codingPath: [any CodingKey] { [] }

    private func column(_ key: Key) -> String { StoreColumns.snakeCase(key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { encoder.values[column(key)] = .some(nil) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        encoder.values[column(key)] = .some(try PostgresRowEncoder.text(value))
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try store(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try store(value, key) }

    /// The concrete overloads go through the generic one (in a generic context, `encode` is the generic overload).
    private mutating func store<T: Encodable>(_ value: T, _ key: Key) throws { try encode(value, forKey: key) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        preconditionFailure("a store record is flat: \(key.stringValue) is one column")
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        preconditionFailure("a store record is flat: \(key.stringValue) is one column")
    }

    mutating func superEncoder() -> any Encoder { preconditionFailure("a store record has no superclass part") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { preconditionFailure("a store record has no superclass part") }
}
