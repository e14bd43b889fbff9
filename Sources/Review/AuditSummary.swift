import Foundation

/// The audit's headline for one split, as the review TUI shows it. The label findings are instant
/// (`init(dataset:split:)`); leakage needs the images decoded, so it is nil until taken from a full audit
/// (`init(report:split:)`) or from `DatasetAudit.leakage(dataset:split:)`.
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

    public init(report: AuditReport, split: String) {
        let s = report.splits[split]
        self.split = split
        images = s?.images ?? 0
        unlabelled = s?.unlabelled.count ?? 0
        multiClass = s?.multiClassLabels.count ?? 0
        labelProblems = s?.problems.count ?? 0
        leaked = s.map { $0.leaked.count }
    }

    /// e.g. "test: 64 images · 0 unlabelled · 0 multi-class · 48 leaked from train/valid"
    public var headline: String {
        var parts = ["\(split): \(images) images", "\(unlabelled) unlabelled", "\(multiClass) multi-class"]
        if labelProblems > 0 { parts.append("\(labelProblems) label problems") }
        if let leaked { parts.append(split == "train" ? "(train is the reference)" : "\(leaked) near-duplicates of other splits") }
        return parts.joined(separator: " · ")
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
