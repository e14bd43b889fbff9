/// Writes the reviewed-cases CSV (ReviewCSV in the app; a fake in tests).
public protocol DecisionExporter {
    /// `split`: only that split's decisions; nil for every split.
    func export(reviewer: String, split: String?, to path: String) throws -> Int
}
