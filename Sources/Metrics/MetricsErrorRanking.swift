/// A misclassified case, for the "most confident errors first" list.
public struct RankedError: Sendable, Equatable, Codable {
    public let index: Int
    public let truth: Int
    public let predicted: Int
    public let confidence: Double
}

public enum ErrorRanking {
    /// Errors sorted by the model's confidence in its (wrong) prediction, highest first; ties by case order.
    public static func rank(probabilities: [[Double]], truth: [Int]) -> [RankedError] {
        var errors: [RankedError] = []
        for (i, (p, t)) in zip(probabilities, truth).enumerated() {
            let top = TopKAccuracy.topK(p, k: 1)[0]
            if top != t { errors.append(RankedError(index: i, truth: t, predicted: top, confidence: p[top])) }
        }
        return errors.sorted { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.index < $1.index }
    }
}
