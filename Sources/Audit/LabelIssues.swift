import Foundation

/// Likely label errors from held-out probabilities (confident learning, Northcutt et al.; cleanlab).
///
/// Per labelled case with given class i and held-out probabilities p:
/// - **self-confidence** p(i);
/// - **per-class thresholds** t_j = the mean p(j) over the cases labelled j;
/// - **flagged** (cleanlab's confident-learning rule) when another class j clears its threshold (p(j) ≥ t_j) and the
///   given class does not (p(i) < t_i);
/// - **suggested**: among the classes that clear their thresholds, the most probable; argmax p when none does;
/// - **score** = 1 − p(i), the order: most likely error first (ties by image path). Measured on HBFMID with 10 % of
///   the labels flipped, ranking by self-confidence finds the flips better (AUROC) than putting the flagged cases
///   first would; docs/review.md has the figures and the comparison with cleanlab.
/// The probabilities must be held-out (out-of-fold): a model's probabilities on its own training images say nothing
/// about their labels.
public struct LabelIssue: Sendable, Equatable, Codable {
    public let index: Int
    public let given: Int
    public let suggested: Int
    public let selfConfidence: Double
    public let score: Double
    public let flagged: Bool
}

public enum LabelIssues {
    /// t_j for each class (nil for a class no case is labelled with).
    public static func thresholds(probabilities: [[Float]], labels: [Int], classCount: Int) -> [Double?] {
        var sums = [Double](repeating: 0, count: classCount), counts = [Int](repeating: 0, count: classCount)
        for (p, y) in zip(probabilities, labels) where y < classCount && y < p.count {
            sums[y] += Double(p[y]); counts[y] += 1
        }
        return (0..<classCount).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : nil }
    }

    /// Every case, ranked most likely error first. `index` refers to the input order.
    public static func rank(probabilities: [[Float]], labels: [Int], classCount: Int, paths: [String]? = nil) -> [LabelIssue] {
        let t = thresholds(probabilities: probabilities, labels: labels, classCount: classCount)
        var issues: [LabelIssue] = []
        for (i, (p, y)) in zip(probabilities, labels).enumerated() where y < classCount && p.count == classCount {
            let clears = (0..<classCount).filter { j in t[j].map { Double(p[j]) >= $0 } ?? false }
            let givenClears = t[y].map { Double(p[y]) >= $0 } ?? false
            let flagged = !givenClears && clears.contains { $0 != y }
            let pool = clears.isEmpty ? Array(0..<classCount) : clears
            let suggested = pool.max { (p[$0], -$0) < (p[$1], -$1) }!
            issues.append(LabelIssue(index: i, given: y, suggested: suggested, selfConfidence: Double(p[y]),
                                     score: 1 - Double(p[y]), flagged: flagged))
        }
        return issues.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            if let paths { return paths[a.index] < paths[b.index] }
            return a.index < b.index
        }
    }
}
