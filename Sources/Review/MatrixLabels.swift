/// Which labels the confusion matrix's rows use.
public enum MatrixLabels: Sendable {
    /// The dataset's ground truth.
    case dataset
    /// The reviewer's labels: relabelled → the new label, accepted → the dataset label; flagged and unreviewed cases are left out.
    case reviewed
}
