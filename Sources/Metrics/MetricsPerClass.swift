/// Precision, recall and F1 of one class. nil means undefined (no predictions of the class for precision,
/// no cases of it for recall): shown as "n/a", never hidden and never silently 0.
public struct ClassMetrics: Sendable, Equatable, Codable {
    public let name: String
    public let precision: Double?
    public let recall: Double?
    public let f1: Double?
    public let support: Int
    public let predicted: Int

    enum CodingKeys: String, CodingKey { case name, precision, recall, f1, support, predicted }
    /// Explicit nulls, so an undefined value reads as such in the JSON instead of vanishing.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(precision, forKey: .precision)
        try c.encode(recall, forKey: .recall); try c.encode(f1, forKey: .f1)
        try c.encode(support, forKey: .support); try c.encode(predicted, forKey: .predicted)
    }
}

/// Per-class metrics plus accuracy and the macro and weighted averages.
/// Averages follow scikit-learn's `classification_report` defaults: they run over the classes that occur in the
/// truth or the predictions, and an undefined precision/recall counts as 0 there (zero_division=0).
public struct ClassificationMetrics: Sendable, Equatable, Codable {
    public let classes: [ClassMetrics]
    public let accuracy: Double?
    public let macroPrecision: Double?
    public let macroRecall: Double?
    public let macroF1: Double?
    public let weightedPrecision: Double?
    public let weightedRecall: Double?
    public let weightedF1: Double?
    public let n: Int

    public init(matrix: ConfusionMatrix, classNames: [String]) {
        let k = matrix.classCount
        var per: [ClassMetrics] = []
        for c in 0..<k {
            let tp = Double(matrix.counts[c][c])
            let support = matrix.support(c), predicted = matrix.predictedCount(c)
            let precision: Double? = predicted > 0 ? tp / Double(predicted) : nil
            let recall: Double? = support > 0 ? tp / Double(support) : nil
            var f1: Double?
            if support > 0 || predicted > 0 {
                let p = precision ?? 0, r = recall ?? 0
                f1 = p + r > 0 ? 2 * p * r / (p + r) : 0
            }
            // A class with no cases and no predictions has nothing to score.
            if support == 0 { f1 = predicted > 0 ? 0 : nil }
            per.append(ClassMetrics(name: c < classNames.count ? classNames[c] : "class \(c)", precision: precision,
                                    recall: recall, f1: f1, support: support, predicted: predicted))
        }
        let total = matrix.total
        let present = per.filter { $0.support > 0 || $0.predicted > 0 }
        func mean(_ f: (ClassMetrics) -> Double?) -> Double? {
            present.isEmpty ? nil : present.map { f($0) ?? 0 }.reduce(0, +) / Double(present.count)
        }
        func weighted(_ f: (ClassMetrics) -> Double?) -> Double? {
            total == 0 ? nil : per.map { (f($0) ?? 0) * Double($0.support) }.reduce(0, +) / Double(total)
        }
        classes = per
        n = total
        accuracy = matrix.accuracy
        macroPrecision = mean(\.precision); macroRecall = mean(\.recall); macroF1 = mean(\.f1)
        weightedPrecision = weighted(\.precision); weightedRecall = weighted(\.recall); weightedF1 = weighted(\.f1)
    }
}
