import Basics
import Imaging
/// The one mapping from a model's class order to a dataset's, by name. A model may list its classes in another
/// order than the dataset's data.yaml; comparing indices would then mark agreement wrongly and fill the confusion
/// matrix and the CSV with wrong names. Everything downstream of the runner works in dataset order.
public struct ClassMapping: Sendable, Equatable {
    public let datasetClasses: [String]
    public let modelClasses: [String]
    /// For each dataset class, the model's index of the same name.
    public let modelIndex: [Int]

    /// Throws a one-line error naming the classes when the two sets of names differ.
    /// When two class names are the same class: ignoring case and surrounding spaces. Every comparison of model
    /// and dataset classes (here, `EvaluationRunner.classMapping`) uses this.
    public static func key(_ name: String) -> String { name.trimmingCharacters(in: .whitespaces).lowercased() }

    public init(modelClasses: [String], datasetClasses: [String]) throws {
        let key = Self.key
        var byName: [String: Int] = [:]
        for (i, name) in modelClasses.enumerated() where byName[key(name)] == nil { byName[key(name)] = i }
        let missing = datasetClasses.filter { byName[key($0)] == nil }
        let datasetKeys = Set(datasetClasses.map(key))
        let extra = modelClasses.filter { !datasetKeys.contains(key($0)) }
        guard missing.isEmpty, extra.isEmpty, Set(modelClasses.map(key)).count == modelClasses.count else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("the model lacks dataset classes " + missing.map { "\"\($0)\"" }.joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("the dataset lacks model classes " + extra.map { "\"\($0)\"" }.joined(separator: ", ")) }
            if parts.isEmpty { parts.append("the model names a class twice") }
            throw DatasetError(TerminalSafeText.clean("model and dataset classes differ: " + parts.joined(separator: "; ")))
        }
        self.datasetClasses = datasetClasses
        self.modelClasses = modelClasses
        modelIndex = datasetClasses.map { byName[key($0)]! }
    }

    public var isIdentity: Bool { modelIndex == Array(modelIndex.indices) }
}
