import Foundation
import Imaging
import Model

/// Runs the classifier over a list of cases and turns the outputs into `EvaluatedCase`s.
public enum EvaluationRunner {
    public struct Outcome: Sendable {
        public let evaluated: [EvaluatedCase]
        /// Cases whose image could not be read or decoded: "path: reason".
        public let undecodable: [String]
    }

    /// Maps dataset class ids to the model's, by name: a model may order its classes differently.
    /// Throws a one-line error when a labelled dataset class is unknown to the model.
    public static func classMapping(datasetClasses: [String], modelClasses: [String], cases: [DatasetCase]) throws -> [Int: Int] {
        var mapping: [Int: Int] = [:]
        let used = Set(cases.compactMap { $0.truth.classIndex })
        for id in used.sorted() {
            let name = id < datasetClasses.count ? datasetClasses[id] : "class \(id)"
            guard let m = modelClasses.firstIndex(of: name) else {
                throw DatasetError("dataset class \"\(name)\" is not one of the model's classes (\(modelClasses.joined(separator: ", ")))")
            }
            mapping[id] = m
        }
        return mapping
    }

    public static func run(cases: [DatasetCase], classifier: FractureClassifier, mapping: [Int: Int],
                           stage: String = "inference", progress: ProgressHandler? = nil) -> Outcome {
        let info = classifier.info
        let height = info.inputSize.count == 2 ? info.inputSize[0] : 224
        let width = info.inputSize.count == 2 ? info.inputSize[1] : 224
        var evaluated: [EvaluatedCase] = [], undecodable: [String] = []
        for (i, c) in cases.enumerated() {
            defer { progress?(stage, i + 1, cases.count) }
            let image: RGBImage
            do { image = try ImageDecoder.decode(path: c.imagePath) } catch {
                undecodable.append("\(c.relativePath): \(String("\(error)".split(separator: "\n").first ?? "cannot decode"))")
                continue
            }
            let input = ModelInput.tensor(from: image, width: width, height: height, mean: info.mean, std: info.std)
            let output = classifier.run(input: input, gradcam: false)
            evaluated.append(EvaluatedCase(relativePath: c.relativePath, truth: c.truth.classIndex.flatMap { mapping[$0] },
                                           logits: output.logits.map(Double.init)))
        }
        return Outcome(evaluated: evaluated, undecodable: undecodable)
    }
}
