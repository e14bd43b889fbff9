/// Share of cases whose truth is among the k most probable classes (ties: lower class index first, as a
/// stable argsort would rank them).
public enum TopKAccuracy {
    public static func topK(_ probabilities: [Double], k: Int) -> [Int] {
        Array(probabilities.indices.sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }.prefix(k))
    }

    public static func accuracy(probabilities: [[Double]], truth: [Int], k: Int) -> Double? {
        guard !truth.isEmpty else { return nil }
        let hits = zip(probabilities, truth).filter { topK($0.0, k: k).contains($0.1) }.count
        return Double(hits) / Double(truth.count)
    }
}
