/// Which cases the list shows.
public enum CaseFilter: Equatable, Sendable {
    case all
    /// The model's prediction differs from the label (unlabelled cases count: there is nothing to agree with).
    case disagreements
    case flagged
    case relabelled
    case unreviewed
    /// Cases whose label (dataset or reviewed, as the matrix shows) is this class.
    case truthClass(Int)
    /// One confusion-matrix cell: truth (nil = unlabelled) × predicted.
    case cell(truth: Int?, predicted: Int)
    /// Labelled, held-out cases with a prediction, most likely label error first (`LabelIssues`).
    case likelyLabelErrors
    /// Cases two or more readers read with different answers (what an adjudicator steps through).
    case disputed

    public func title(classes: [String]) -> String {
        func name(_ i: Int?) -> String { i.map { $0 < classes.count ? classes[$0] : "#\($0)" } ?? "unlabelled" }
        switch self {
        case .all: return "all"
        case .disagreements: return "disagreements"
        case .flagged: return "flagged"
        case .relabelled: return "relabelled"
        case .unreviewed: return "unreviewed"
        case .truthClass(let c): return "label \(name(c))"
        case .cell(let t, let p): return "\(name(t)) → \(name(p))"
        case .likelyLabelErrors: return "likely label errors first"
        case .disputed: return "readers disagree"
        }
    }
}
