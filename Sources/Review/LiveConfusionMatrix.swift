import Metrics
/// The review screen's matrix: `ConfusionMatrix` over the labelled cases plus the unlabelled cases' predictions.
/// Row `classCount` is the unlabelled row; `m[r][k]` reads any cell.
public struct LiveConfusionMatrix: Equatable {
    public var labelled: ConfusionMatrix
    public var unlabelled: [Int]
    public init(classCount: Int) {
        labelled = ConfusionMatrix(classCount: classCount)
        unlabelled = [Int](repeating: 0, count: classCount)
    }
    public var classCount: Int { labelled.classCount }
    public subscript(row: Int) -> [Int] { row < classCount ? labelled.counts[row] : unlabelled }
    /// Every counted case, labelled or not.
    public var total: Int { labelled.total + unlabelled.reduce(0, +) }
    public var largestCell: Int { max(labelled.counts.joined().max() ?? 0, unlabelled.max() ?? 0) }
}
