import Foundation

/// ISO 8601 UTC timestamps: milliseconds in the database, whole seconds in the CSV. Formatted by hand so that
/// a date rounded to the millisecond survives a round trip bit for bit.
enum ReviewTime {
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func string(_ date: Date, fractional: Bool = true) -> String {
        let ms = milliseconds(date)
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let millis = Int(ms - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return fractional ? base + String(format: ".%03dZ", millis) : base + "Z"
    }

    static func date(_ text: String) -> Date? {
        let fields = text.split(whereSeparator: { "-T:.Z".contains($0) }).map { Int($0) }
        guard text.hasSuffix("Z"), fields.count == 6 || fields.count == 7, fields.allSatisfy({ $0 != nil }) else {
            return nil
        }
        let f = fields.map { $0! }
        var parts = tm()
        parts.tm_year = Int32(f[0] - 1900); parts.tm_mon = Int32(f[1] - 1); parts.tm_mday = Int32(f[2])
        parts.tm_hour = Int32(f[3]); parts.tm_min = Int32(f[4]); parts.tm_sec = Int32(f[5])
        let seconds = Int64(timegm(&parts))
        let millis = f.count == 7 ? Int64(f[6]) : 0
        return Date(timeIntervalSince1970: Double(seconds * 1000 + millis) / 1000)
    }
}
