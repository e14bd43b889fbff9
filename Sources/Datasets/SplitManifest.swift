import Basics
import Foundation
import Imaging

/// A split manifest: a CSV `path,split` (path relative to the dataset root), as written by `fracview audit
/// --write-split` and read by `fracview evaluate --manifest` and training's `--split-manifest`.
public enum SplitManifest {
    /// The largest manifest read (HBFMID's is 100 KB; a million cases fit).
    static let maxBytes = 64 << 20

    public static func render(_ rows: [(path: String, split: String)]) -> String {
        CSVTable.render([["path", "split"]] + rows.sorted(by: { $0.path < $1.path }).map { [$0.path, $0.split] }, lineEnd: .lf)
    }

    public static func write(_ rows: [(path: String, split: String)], to path: String) throws {
        do { try AtomicFile.write(Data(render(rows).utf8), to: path, creatingFolder: true) } catch {
            throw DatasetError("\(path): cannot write the split manifest (\(error))")
        }
    }

    /// Path → split. Throws a one-line error for an unreadable file or a missing header.
    public static func read(path: String) throws -> [String: String] {
        guard let data = DirectoryListing.readFile(path, maxBytes: Self.maxBytes) else {
            throw DatasetError("\(path): cannot read manifest (a regular file of at most \(Self.maxBytes >> 20) MiB)")
        }
        let records = try parseCSV(data, path: path)
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
        guard let data = DirectoryListing.readFile(path, maxBytes: Self.maxBytes) else {
            throw DatasetError("\(path): cannot read manifest (a regular file of at most \(Self.maxBytes >> 20) MiB)")
        }
        let records = try parseCSV(data, path: path)
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


    /// RFC 4180 records, through `CSVTable`; an error names the file.
    static func parseCSV(_ data: Data, path: String) throws -> [[String]] {
        do { return try CSVTable.parse(String(decoding: data, as: UTF8.self)) } catch { throw DatasetError("\(path): \(error)") }
    }
}
