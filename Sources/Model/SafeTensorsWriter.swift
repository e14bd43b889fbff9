import Foundation

/// Writes a safetensors file from Float32 arrays, optionally narrowed to F16/BF16.
/// Used by tests (round trips, damaged files) and by tools that export weights from Swift.
public struct SafeTensorsWriter {
    public struct Item {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
        public let dtype: SafeTensorsDType
    }

    public var metadata: [String: String]
    public private(set) var items: [Item] = []

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    public mutating func add(_ name: String, shape: [Int], values: [Float], dtype: SafeTensorsDType = .f32) {
        precondition(shape.reduce(1, *) == values.count, "SafeTensorsWriter: \(name) shape/value mismatch")
        precondition(dtype.isFloat, "SafeTensorsWriter: only float dtypes")
        items.append(Item(name: name, shape: shape, values: values, dtype: dtype))
    }

    /// The encoded file.
    public func encoded() throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for item in items {
            let begin = body.count
            switch item.dtype {
            case .f32: for v in item.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
            case .f16: for v in item.values { withUnsafeBytes(of: floatToHalf(v).littleEndian) { body.append(contentsOf: $0) } }
            case .bf16: for v in item.values { withUnsafeBytes(of: floatToBFloat16(v).littleEndian) { body.append(contentsOf: $0) } }
            default: preconditionFailure()
            }
            header[item.name] = ["dtype": item.dtype.rawValue, "shape": item.shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // the format pads the header with spaces to 8 bytes
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    public func write(to path: String) throws {
        try encoded().write(to: URL(fileURLWithPath: path))
    }
}
