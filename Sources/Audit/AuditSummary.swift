import Datasets
import Foundation

/// The audit's findings for one split, as the review TUI's header shows them. The label findings are instant;
/// leakage needs every image decoded (`fracview audit`), so it is nil here unless set.
public struct AuditSummary: Sendable, Equatable {
    public let split: String
    public let images: Int
    public let unlabelled: Int
    public let multiClass: Int
    public let labelProblems: Int
    /// Images of this split that are copies of train (or, for test, valid) images; nil = not computed.
    public var leaked: Int?

    public init(dataset: YOLODataset, split: String) {
        self.init(cases: (try? dataset.cases(split: split)) ?? [], split: split,
                  labelProblems: dataset.splitProblems[split]?.count ?? 0)
    }

    /// From cases already read (the review TUI has them): no file is touched.
    public init(cases: [DatasetCase], split: String, labelProblems: Int = 0) {
        self.split = split
        images = cases.count
        unlabelled = cases.filter { $0.truth.classIndex == nil }.count
        multiClass = cases.filter { $0.classesInLabelFile.count > 1 }.count
        self.labelProblems = labelProblems
        leaked = nil
    }

    /// Only what needs attention, e.g. "3 unlabelled · 2 multi-class"; nil when the split is clean.
    public var findings: String? {
        var parts: [String] = []
        if unlabelled > 0 { parts.append("\(unlabelled) unlabelled") }
        if multiClass > 0 { parts.append("\(multiClass) multi-class") }
        if labelProblems > 0 { parts.append("\(labelProblems) label problems") }
        if let leaked, leaked > 0, split != "train" { parts.append("\(leaked) near-duplicates") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }
}
