import Basics
import Imaging

/// Each decision row keeps, next to its class indices, the names they meant when it was written (`truth_class`,
/// `predicted_class`, `reviewer_class`, from the session's classes). When the session's class list names an index
/// differently from the row, the index no longer means what the reviewer saw: the row is refused and named, never
/// exported as another class (issue #26 §10).
enum RecordedClassNames {
    /// The first disagreement between a row's indices and its recorded names under `classes`, as a one-line
    /// problem; nil when they agree, or when a name was not recorded or the index is out of the list.
    static func mismatch(_ d: ReviewDecision, truth: String?, predicted: String?, reviewer: String?,
                         classes: [String]) -> String? {
        let name = "review database row \(d.caseID) (reviewer \(d.reviewer))"
        for (column, index, recorded) in [("truth", d.truth, truth), ("predicted", d.predicted, predicted),
                                          ("reviewer_label", d.reviewerLabel, reviewer)] {
            guard let index, let recorded, classes.indices.contains(index), classes[index] != recorded else { continue }
            return TerminalSafeText.clean("\(name): \(column) \(index) is \"\(classes[index])\" in the session's classes, "
                                          + "but the row was written as \"\(recorded)\"; left out")
        }
        return nil
    }
}
