import Basics
import Datasets
import Foundation
import Imaging

/// The reviewed-cases CSV (RFC 4180, UTF-8, header row, formula-injection neutralised, written atomically).
///
/// Choices:
/// - UTF-8 with a byte-order mark by default: Excel reads a BOM-less CSV as the local ANSI code page and garbles
///   accented names and notes, while LibreOffice, Google Sheets, pandas and Python's csv (utf-8-sig) all accept the BOM.
/// - CRLF line ends and quoting as RFC 4180 says; every cell is text, quoted only when it must be.
/// - OWASP CSV injection: a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`. Our numeric
///   columns (probabilities, confidence) are never negative, so no number is altered.
public enum ReviewCSV {
    public static func write(_ decisions: [ReviewDecision], classes: [String], datasetRoot: String?, to path: String) throws {
        try write(decisions, classes: classes, datasetRoot: datasetRoot, to: path, byteOrderMark: true)
    }

    public static func write(_ decisions: [ReviewDecision], classes: [String], datasetRoot: String?, to path: String,
                             byteOrderMark: Bool) throws {
        var text = byteOrderMark ? "\u{FEFF}" : ""
        text += render(decisions, classes: classes, datasetRoot: datasetRoot)
        do { try AtomicFile.write(Data(text.utf8), to: path) } catch let failure as AtomicFile.Failure {
            throw ReviewStoreError("cannot write CSV to \(path): \(failure.reason)")
        }
    }

    /// The column names, in order.
    public static func header(classes: [String]) -> [String] {
        ["image_path", "split", "ground_truth", "prediction", "confidence"]
            + classes.map { "p_\($0)" }
            + ["status", "reviewer_label", "reviewer_class", "note", "reviewer", "role", "read_mode", "reviewed_at", "weights_id"]
    }

    /// One row of cells (before escaping) for a decision.
    public static func cells(_ d: ReviewDecision, classes: [String], datasetRoot: String?) -> [String] {
        func name(_ index: Int?) -> String {
            guard let index else { return "" }
            return classes.indices.contains(index) ? classes[index] : "class \(index)"
        }
        // A PACS case's key is already a full reference (server, study, series, instance): no root goes before it.
        let imagePath = d.caseID.contains("://") ? d.caseID
            : datasetRoot.map { URL(fileURLWithPath: $0).appendingPathComponent(d.caseID).path } ?? d.caseID
        let confidence = d.predicted.flatMap { d.probabilities.indices.contains($0) ? number(d.probabilities[$0]) : nil }
        let probabilities = classes.indices.map { d.probabilities.indices.contains($0) ? number(d.probabilities[$0]) : "" }
        return [imagePath, d.split, d.truth.map { name($0) } ?? "unlabelled", name(d.predicted), confidence ?? ""]
            + probabilities
            + [d.status.rawValue, name(d.reviewerLabel), name(d.decidedClass), d.note, d.reviewer, d.role.rawValue, d.readMode.rawValue,
               ReviewTime.string(d.reviewedAt, fractional: false), d.weightsID]
    }

    /// Long format for a team: one row per case and reader (then adjudicator), cases in path order.
    public static func longFormat(_ decisions: [ReviewDecision]) -> [ReviewDecision] {
        decisions.sorted {
            ($0.split, $0.caseID, $0.role == .reader ? 0 : 1, $0.reviewer)
                < ($1.split, $1.caseID, $1.role == .reader ? 0 : 1, $1.reviewer)
        }
    }

    /// The whole file's text (no BOM): CRLF line ends, every cell neutralised against formulas.
    public static func render(_ decisions: [ReviewDecision], classes: [String], datasetRoot: String?) -> String {
        let rows = [header(classes: classes)] + decisions.map { cells($0, classes: classes, datasetRoot: datasetRoot) }
        return CSVTable.render(rows.map { $0.map(CSVTable.neutralise) }, lineEnd: .crlf)
    }

    /// OWASP: a spreadsheet must never read a cell as a formula (`CSVTable.neutralise`, the one rule).
    public static func neutralise(_ cell: String) -> String { CSVTable.neutralise(cell) }

    /// Probabilities with 6 decimals: enough to sort and compare, short enough to read.
    static func number(_ value: Float) -> String {
        value.isFinite ? String(format: "%.6f", Double(value)) : "nan"
    }
}

