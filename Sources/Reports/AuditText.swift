import Audit
import Basics
import Datasets
import Foundation
import Imaging

/// The terminal rendering of an audit report.
public enum AuditText {
    public static func render(_ r: AuditReport, leakLimit: Int = 200) -> String {
        var out = "Audit of \(r.dataset)\n\(r.classes.count) classes: \(r.classes.joined(separator: ", "))\n"
        for p in r.problems { out += "  ! \(p)\n" }
        let splits = r.splitOrder.compactMap { r.splits[$0] }
        out += "\n" + "".padding(toLength: 22, withPad: " ", startingAt: 0) + splits.map { $0.split.leftPad(8) }.joined() + "\n"
        func row(_ title: String, _ value: (SplitAudit) -> String) {
            out += title.padding(toLength: 22, withPad: " ", startingAt: 0) + splits.map { value($0).leftPad(8) }.joined() + "\n"
        }
        row("images") { String($0.images) }
        row("labelled") { String($0.labelled) }
        row("unlabelled") { String($0.unlabelled.count) }
        row("  empty label file") { String($0.emptyLabels.count) }
        row("  missing label file") { String($0.missingLabels.count) }
        row("  bad label line") { String($0.badLabels.count) }
        row("label without image") { String($0.missingImages.count) }
        row("multi-class labels") { String($0.multiClassLabels.count) }
        row("undecodable images") { String($0.undecodable.count) }
        row("exact dups in split") { String($0.duplicatesWithinSplit.count) }
        row("leaked (copies)") { $0.leakReference.isEmpty ? "—" : String($0.leaked.count) }
        out += "class counts (first label line)\n"
        for name in r.classes {
            row("  " + name) { s in
                let v = s.classCounts[name] ?? 0
                return v == 0 ? "0 !" : String(v)
            }
        }
        for s in splits where s.split != "train" {
            let absent = r.classes.filter { (s.classCounts[$0] ?? 0) == 0 }
            if !absent.isEmpty { out += "  ! \(s.split) has no \(absent.joined(separator: ", ")) case\n" }
        }
        if !splits.contains(where: { $0.split == "train" }) {
            out += "  (no train split: leakage not checked)\n"
        }
        for s in splits where !s.leaked.isEmpty {
            let exact = s.leaked.filter(\.exact).count
            out += "\n\(s.split): \(s.leaked.count) of \(s.images) images are copies of other splits' images"
            out += exact > 0 ? " (\(exact) byte-identical)\n" : "\n"
            for l in s.leaked.prefix(leakLimit) {
                out += String(format: "  %.3f  ", l.similarity) + "\(l.image)  ≈  \(l.twin)\n"
            }
            if s.leaked.count > leakLimit { out += "  … \(s.leaked.count - leakLimit) more (--json)\n" }
        }
        for s in splits {
            let listed = s.problems.prefix(30)
            if listed.isEmpty { continue }
            out += "\n\(s.split) problems (\(s.problems.count))\n"
            for p in listed { out += "  \(p)\n" }
            if s.problems.count > 30 { out += "  … \(s.problems.count - 30) more (--json)\n" }
        }
        for s in splits where !s.emptyLabels.isEmpty {
            out += "\n\(s.split): empty label files, these cases are unlabelled:\n"
            for p in s.emptyLabels { out += "  \(p)\n" }
        }
        return TerminalSafeText.clean(out, keepingNewlines: true)
    }

    /// Class counts per split of a manifest, as a small table.
    public static func manifestSummary(rows: [(path: String, split: String)], dataset: YOLODataset) -> String {
        let truth = Dictionary(dataset.allCases.map { ($0.relativePath, $0.truth.classIndex) }, uniquingKeysWith: { a, _ in a })
        let names = GroupedSplit.splitNames
        var counts = [String: [Int]](), sizes = [String: Int](), unl = [String: Int]()
        for n in names { counts[n] = Array(repeating: 0, count: dataset.classes.count) }
        for row in rows {
            sizes[row.split, default: 0] += 1
            if let c = truth[row.path] ?? nil { counts[row.split]?[c] += 1 } else { unl[row.split, default: 0] += 1 }
        }
        var out = "".padding(toLength: 22, withPad: " ", startingAt: 0) + names.map { $0.leftPad(8) }.joined() + "\n"
        out += "images".padding(toLength: 22, withPad: " ", startingAt: 0) + names.map { String(sizes[$0] ?? 0).leftPad(8) }.joined() + "\n"
        for (c, name) in dataset.classes.enumerated() {
            out += ("  " + name).padding(toLength: 22, withPad: " ", startingAt: 0)
                + names.map { String(counts[$0]?[c] ?? 0).leftPad(8) }.joined() + "\n"
        }
        out += "  unlabelled".padding(toLength: 22, withPad: " ", startingAt: 0) + names.map { String(unl[$0] ?? 0).leftPad(8) }.joined() + "\n"
        return TerminalSafeText.clean(out, keepingNewlines: true)
    }
}
