import Foundation
import Store

/// Every reader's and adjudicator's decisions in one split, by case: what the TUI needs for the team's progress,
/// the cases to adjudicate, and the team's settled labels.
public struct TeamReads: Sendable, Equatable {
    /// Reader rows by relative path, sorted by reviewer.
    public let reads: [String: [ReviewDecision]]
    /// Adjudicator rows by relative path (the latest when several adjudicators decided).
    public let adjudications: [String: ReviewDecision]
    /// Every reader with at least one read here, sorted.
    public let readers: [String]
    /// The cases whose readers disagree.
    public let disputed: Set<String>
    /// Every row (reads and adjudications): changes with any new decision.
    public let rowCount: Int

    public init(decisions: [ReviewDecision]) {
        var reads: [String: [ReviewDecision]] = [:], adjudications: [String: ReviewDecision] = [:]
        for d in decisions {
            switch d.role {
            case .reader: reads[d.caseID, default: []].append(d)
            case .adjudicator:
                if let old = adjudications[d.caseID], old.reviewedAt > d.reviewedAt { continue }
                adjudications[d.caseID] = d
            }
        }
        self.reads = reads.mapValues { $0.sorted { $0.reviewer < $1.reviewer } }
        self.adjudications = adjudications
        readers = Array(Set(decisions.filter { $0.role == .reader }.map(\.reviewer))).sorted()
        rowCount = decisions.count
        disputed = Set(self.reads.filter { TeamReads.disagree($0.value.map(\.decidedClass)) }.keys)
    }

    public static let empty = TeamReads(decisions: [])

    /// Readers disagree when two or more read the case and their answers differ (a flag is an answer: "none of
    /// these", which differs from any class).
    public static func disagree(_ answers: [Int?]) -> Bool {
        answers.count >= 2 && Set(answers.map { $0 ?? -1 }).count > 1
    }

    public func isDisputed(_ path: String) -> Bool { disputed.contains(path) }

    /// The team's label for a case: the adjudicator's, else the readers' common class. `included` is false when the
    /// case is unread, disputed and not adjudicated, or settled as a flag.
    public func settledLabel(_ path: String) -> (included: Bool, label: Int?) {
        if let a = adjudications[path] { return a.status == .flagged ? (false, nil) : (true, a.decidedClass) }
        guard let r = reads[path], !r.isEmpty, !isDisputed(path), let first = r.first, first.status != .flagged else {
            return (false, nil)
        }
        return (true, first.decidedClass)
    }

    /// How many cases this reader has read here.
    public func readCount(_ reviewer: String) -> Int {
        reads.values.reduce(0) { $0 + ($1.contains { $0.reviewer == reviewer } ? 1 : 0) }
    }
}
