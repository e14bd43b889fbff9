import CSV
import Foundation

/// Every CSV fracview reads or writes, through one library (yaslab/CSV.swift): RFC 4180 quoting (a field is quoted
/// only when it holds a comma, a quote or a line break; quotes doubled), and one rule against formula injection.
public enum CSVTable {
    public enum LineEnd { case crlf, lf }

    /// The rows as CSV text, every row ended by `lineEnd` (CSV.swift ends all but the last; the file gets its last).
    public static func render(_ rows: [[String]], lineEnd: LineEnd) -> String {
        let stream = OutputStream(toMemory: ())
        // A memory stream cannot fail to take bytes; an error would be a library bug, and gives an empty table.
        guard let writer = try? CSVWriter(stream: stream, newline: lineEnd == .crlf ? .crlf : .lf) else { return "" }
        for row in rows { try? writer.write(row: row) }
        writer.stream.close()
        let data = writer.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + (rows.isEmpty ? "" : (lineEnd == .crlf ? "\r\n" : "\n"))
    }

    /// RFC 4180 records (quoted fields, doubled quotes, CRLF or LF); blank lines and a leading byte-order mark are
    /// skipped, and an unterminated quote runs to the end of the text. Throws a one-line error if the reader fails.
    public static func parse(_ text: String) throws -> [[String]] {
        var text = text
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        let reader = try CSVReader(string: text, hasHeaderRow: false)
        var rows: [[String]] = []
        while let row = reader.next() { if row != [""] { rows.append(row) } }
        if let error = reader.error { throw DatasetError("not a CSV file (\(error))") }
        return rows
    }

    /// OWASP CSV injection: a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so that no
    /// spreadsheet runs it as a formula. A number (`-0.5`, `1e-05`) is left as it is: a spreadsheet reads it as the
    /// number it is.
    public static func neutralise(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(cell) == nil else {
            return cell
        }
        return "'" + cell
    }
}
