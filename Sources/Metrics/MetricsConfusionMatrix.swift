/// Counts of (truth, prediction) pairs: rows are the truth, columns the prediction.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public let classCount: Int
    public private(set) var counts: [[Int]]

    public init(classCount: Int) {
        self.classCount = classCount
        counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    }

    public init(truth: [Int], predicted: [Int], classCount: Int) {
        precondition(truth.count == predicted.count)
        self.init(classCount: classCount)
        for (t, p) in zip(truth, predicted) { add(truth: t, predicted: p) }
    }

    public mutating func add(truth: Int, predicted: Int) { counts[truth][predicted] += 1 }
    public mutating func remove(truth: Int, predicted: Int) { counts[truth][predicted] -= 1 }

    public var total: Int { counts.joined().reduce(0, +) }
    public var correct: Int { (0..<classCount).reduce(0) { $0 + counts[$1][$1] } }
    public var errors: Int { total - correct }
    public var accuracy: Double? { total > 0 ? Double(correct) / Double(total) : nil }
    /// Cases whose truth is `c`.
    public func support(_ c: Int) -> Int { counts[c].reduce(0, +) }
    /// Cases predicted as `c`.
    public func predictedCount(_ c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }
}
