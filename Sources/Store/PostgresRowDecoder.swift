import Foundation

/// A PostgreSQL row as a `Decodable` record, with the conventions GRDB's records follow in SQLite (`StoreRecord`):
/// each coding key is read from the column of its snake_case name, dates are `ReviewTime` text, and arrays and
/// objects (probabilities) are `StoreJSON` text. libpq gives every value as text: a value that does not parse as
/// its type throws, never reads as some other value (an integer must be one, exactly).
struct PostgresRowDecoder: Decoder {
    /// Text by column name; a NULL is nil.
    let values: [String: String?]
    /// The record's coding key by column (`StoreColumns.keys`).
    let keys: [String: any CodingKey]
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// A row (text by column name) as a record.
    static func decode<Record: StoreRecord & Decodable>(_: Record.Type, values: [String: String?]) throws -> Record {
        try Record(from: PostgresRowDecoder(values: values, keys: StoreColumns.keys(Record.StoredKeys.self)))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer<Key>(values: values, keys: keys))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a row is a record, not a list"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a row is a record, not one value"))
    }
}

/// The row's columns by coding key.
private struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let values: [String: String?]
    let keys: [String: any CodingKey]
    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        keys.compactMap { column, key in values[column] == nil ? nil : Key(stringValue: key.stringValue) }
    }

    private func column(_ key: Key) -> String { StoreColumns.snakeCase(key.stringValue) }

    func contains(_ key: Key) -> Bool { values[column(key)] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = values[column(key)] else { throw missing(key) }
        return value == nil
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let value = values[column(key)] else { throw missing(key) }
        guard let text = value else {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: [key], debugDescription: "\(column(key)) is NULL"))
        }
        return try ColumnText(text: text, codingPath: [key]).decodeValue(T.self)
    }

    private func missing(_ key: Key) -> DecodingError {
        .keyNotFound(key, .init(codingPath: [], debugDescription: "no column \(column(key))"))
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try value(key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try value(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try value(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try value(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try value(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try value(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try value(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try value(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try value(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try value(key) }

    /// The concrete overloads go through the generic one (in a generic context, `decode` is the generic overload).
    private func value<T: Decodable>(_ key: Key) throws -> T { try decode(T.self, forKey: key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "a column holds one value"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "a column holds one value"))
    }

    func superDecoder() throws -> any Decoder {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a row has no superclass part"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder() }
}

/// One column's text as a value: texts and enums' raw values as they are, integers and numbers parsed exactly,
/// booleans as PostgreSQL writes them, dates as `ReviewTime` text; a type that asks for a list or an object (the
/// probabilities) reads the text as `StoreJSON`.
private struct ColumnText: Decoder, SingleValueDecodingContainer {
    let text: String
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Thrown when the type wants a container: the column holds JSON.
    private struct StoredAsJSON: Error {}

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == Date.self {
            guard let date = ReviewTime.date(text) else { throw corrupted("not an ISO 8601 time") }
            return date as! T
        }
        do { return try T(from: self) } catch is StoredAsJSON { return try StoreJSON.decode(T.self, from: text) }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw StoredAsJSON() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw StoredAsJSON() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { false }
    func decode(_ type: String.Type) throws -> String { text }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw corrupted("not a boolean")
        }
    }

    func decode(_ type: Double.Type) throws -> Double { try number(Double(text)) }
    func decode(_ type: Float.Type) throws -> Float { try number(Float(text)) }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }

    private func integer<I: FixedWidthInteger>() throws -> I {
        guard let value = I(text) else { throw corrupted("not an integer") }
        return value
    }

    private func number<F>(_ value: F?) throws -> F {
        guard let value else { throw corrupted("not a number") }
        return value
    }

    private func corrupted(_ what: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(what): \(text.prefix(40))"))
    }
}
