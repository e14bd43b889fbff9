import Basics
import Foundation
import Model

/// One JSON object per line for `--json` outputs, through JSONEncoder (keys sorted, so lines diff cleanly).
/// Non-finite numbers are written as null: models can emit NaN, and JSON has no NaN.
enum JSONOutput {
    static func line<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every value here is plain data; a failure would be a programming error, and is said rather than hidden.
        guard let data = try? encoder.encode(value) else { return #"{"error":"could not encode the output as JSON"}"# }
        return String(decoding: data, as: UTF8.self)
    }

    static func finite(_ v: Float) -> Float? { v.isFinite ? v : nil }
    static func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }

    /// A map as rows of numbers (row-major, height × width).
    static func rows(_ m: FeatureMap) -> [[Float?]] {
        (0..<m.height).map { y in (0..<m.width).map { x in finite(m.values[y * m.width + x]) } }
    }
}
