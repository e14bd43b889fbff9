import Datasets
/// A clinically serious confusion, e.g. a comminuted fracture read as a simple transverse one.
public struct CriticalErrorPair: Sendable, Equatable, Codable {
    public let truth: String
    public let predicted: String
    /// nil when a class of the pair is not in the model's class list.
    public let count: Int?

    /// The pairs named in the project brief, looked up by class name (class order may differ between models).
    public static let defaultPairs: [(String, String)] = [("Comminuted", "Transverse Displaced"),
                                                          ("Transverse Displaced", "Healthy")]

    /// The default pairs as [truth, predicted] indices into `classNames` (case and spaces ignored).
    public static func indexPairs(_ classNames: [String], pairs: [(String, String)] = defaultPairs) -> Set<[Int]> {
        func i(_ name: String) -> Int? { classNames.firstIndex { ClassMapping.key($0) == ClassMapping.key(name) } }
        return Set(pairs.compactMap { t, p in i(t).flatMap { a in i(p).map { [a, $0] } } })
    }

    public static func count(in matrix: ConfusionMatrix, classNames: [String],
                             pairs: [(String, String)] = defaultPairs) -> [CriticalErrorPair] {
        pairs.map { truth, predicted in
            guard let t = classNames.firstIndex(of: truth), let p = classNames.firstIndex(of: predicted),
                  t < matrix.classCount, p < matrix.classCount else {
                return CriticalErrorPair(truth: truth, predicted: predicted, count: nil)
            }
            return CriticalErrorPair(truth: truth, predicted: predicted, count: matrix.counts[t][p])
        }
    }
}
