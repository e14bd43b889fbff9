import Foundation
import Metrics

/// `fracview agreement`'s report as text.
public enum AgreementText {
    public static func render(_ a: ReaderAgreement, store: String) -> String {
        func number(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
        func ci(_ c: ConfidenceInterval?) -> String { c.map { String(format: "(%.3f–%.3f)", $0.low, $0.high) } ?? "" }
        func percent(_ v: Double?) -> String { v.map { String(format: "%.1f %%", $0 * 100) } ?? "n/a" }
        var out = "Reader agreement · \(store)\(a.split.map { " · split \($0)" } ?? " · all splits")\n"
        let modes = a.readsByMode.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        out += "\(a.readers.count) reader\(a.readers.count == 1 ? "" : "s"): \(a.readers.joined(separator: ", "))"
            + (modes.isEmpty ? "" : " · reads: \(modes)") + "\n"
        out += "95 % CIs: percentile bootstrap over \(a.bootstrapUnit), \(a.resamples) resamples, seed \(a.seed)\n\n"
        func table(_ title: String, _ pairs: [ReaderAgreement.Pair]) {
            guard !pairs.isEmpty else { return }
            out += "\(title)\n"
            for p in pairs {
                out += "  \(p.first) × \(p.second): κ \(number(p.kappa)) \(ci(p.kappaCI)) · agreement \(percent(p.percentAgreement))"
                    + " · n = \(p.cases)\n"
            }
        }
        table("Cohen's κ, reader pairs (cases both gave a class)", a.pairs)
        table("Cohen's κ, each reader against the dataset labels", a.versusLabels)
        if let f = a.fleiss {
            out += "Fleiss' κ, all \(f.readers) readers: \(number(f.kappa)) \(ci(f.kappaCI)) · all agree \(percent(f.allAgree))"
                + " · n = \(f.cases) cases every reader gave a class\n"
        } else {
            out += "Fleiss' κ: needs two or more readers\n"
        }
        if !a.pairs.isEmpty {
            out += "\nPer-class agreement (specific agreement over reader pairs)\n"
            for c in a.perClass where c.choices > 0 {
                out += "  \(c.className): \(percent(c.specificAgreement)) of \(c.choices) choices\n"
            }
        }
        out += "\n\(a.multiReaderCases) cases read by two or more readers · \(a.disputedCases) disputed, "
            + "\(a.adjudicatedDisputes) of them adjudicated\n"
        out += "\(a.singleReaderCases.count) cases read by only one reader"
        if !a.singleReaderCases.isEmpty {
            let shown = a.singleReaderCases.prefix(10).joined(separator: ", ")
            out += ": \(shown)\(a.singleReaderCases.count > 10 ? ", … (--json lists all)" : "")"
        }
        return out + "\n"
    }
}
