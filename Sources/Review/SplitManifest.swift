import Foundation
import Imaging

/// A split manifest: a CSV `path,split` (path relative to the dataset root), as written by `fracview audit
/// --write-split` and read by `fracview evaluate --manifest` and training's `--split-manifest`.
public enum SplitManifest {
    public static func render(_ rows: [(path: String, split: String)]) -> String {
        var out = "path,split\n"
        for row in rows.sorted(by: { $0.path < $1.path }) { out += quote(row.path) + "," + quote(row.split) + "\n" }
        return out
    }

    public static func write(_ rows: [(path: String, split: String)], to path: String) throws {
        do { try AtomicFile.write(Data(render(rows).utf8), to: path, creatingFolder: true) } catch {
            throw DatasetError("\(path): cannot write the split manifest (\(error))")
        }
    }

    /// Path → split. Throws a one-line error for an unreadable file or a missing header.
    public static func read(path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("\(path): cannot read manifest") }
        let records = parseCSV(String(decoding: data, as: UTF8.self))
        guard let header = records.first, let pathCol = header.firstIndex(of: "path"),
              let splitCol = header.firstIndex(of: "split") else {
            throw DatasetError("\(path): manifest needs a header with columns path,split")
        }
        var result: [String: String] = [:]
        for record in records.dropFirst() where record.count > max(pathCol, splitCol) {
            result[record[pathCol]] = record[splitCol]
        }
        return result
    }

    /// Path → (split, group) from a manifest with a `path` column and a `split` or a `group` column (or both), as
    /// `fracview audit --write-split` and `--write-folds` write them. Throws a one-line error otherwise.
    public static func readRows(path: String) throws -> [String: (split: String?, group: String?)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("\(path): cannot read manifest") }
        let records = parseCSV(String(decoding: data, as: UTF8.self))
        guard let header = records.first, let pathCol = header.firstIndex(of: "path") else {
            throw DatasetError("\(path): manifest needs a header with a path column, and split or group")
        }
        let splitCol = header.firstIndex(of: "split"), groupCol = header.firstIndex(of: "group")
        guard splitCol != nil || groupCol != nil else {
            throw DatasetError("\(path): manifest needs a split or a group column")
        }
        var result: [String: (split: String?, group: String?)] = [:]
        for record in records.dropFirst() where record.count > pathCol {
            func field(_ col: Int?) -> String? { col.flatMap { $0 < record.count ? record[$0] : nil } }
            result[record[pathCol]] = (field(splitCol), field(groupCol))
        }
        return result
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// RFC 4180 records (quoted fields, doubled quotes, CRLF or LF).
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var inQuotes = false, fieldStarted = false
        var chars = Array(text.unicodeScalars)[...]
        while let ch = chars.popFirst() {
            if inQuotes {
                if ch == "\"" {
                    if chars.first == "\"" { field.unicodeScalars.append("\""); chars.removeFirst() } else { inQuotes = false }
                } else { field.unicodeScalars.append(ch) }
                continue
            }
            switch ch {
            case "\"": inQuotes = true; fieldStarted = true
            case ",": record.append(field); field = ""; fieldStarted = false
            case "\r": continue
            case "\n":
                if fieldStarted || !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
                record = []; field = ""; fieldStarted = false
            default: field.unicodeScalars.append(ch); fieldStarted = true
            }
        }
        if fieldStarted || !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}
