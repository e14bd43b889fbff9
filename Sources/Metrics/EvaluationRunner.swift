import Audit
import Datasets
import Foundation
import Imaging
import Inference
import Model

/// Runs the classifier over a list of cases and turns the outputs into `EvaluatedCase`s.
public enum EvaluationRunner {
    public struct Outcome: Sendable {
        public let evaluated: [EvaluatedCase]
        /// Cases whose image could not be read or decoded: "path: reason".
        public let undecodable: [String]
    }

    /// Maps dataset class ids to the model's, by name (`ClassMapping.key`): a model may order its classes differently.
    /// Throws a one-line error when a labelled dataset class is unknown to the model. Unlike the review's
    /// `ClassMapping`, the model may have classes the dataset lacks: evaluation works in the model's class space.
    public static func classMapping(datasetClasses: [String], modelClasses: [String], cases: [DatasetCase]) throws -> [Int: Int] {
        var mapping: [Int: Int] = [:]
        let used = Set(cases.compactMap { $0.truth.classIndex })
        for id in used.sorted() {
            let name = id < datasetClasses.count ? datasetClasses[id] : "class \(id)"
            guard let m = modelClasses.firstIndex(where: { ClassMapping.key($0) == ClassMapping.key(name) }) else {
                throw DatasetError("dataset class \"\(name)\" is not one of the model's classes (\(modelClasses.joined(separator: ", ")))")
            }
            mapping[id] = m
        }
        return mapping
    }

    /// Runs `classifier` (a fold ensemble: each case by the members that have not seen it) on every case, with
    /// Grad-CAM for the pointing game. `groups` maps relative paths to source groups (from a manifest).
    /// With `camMethods`, each method's pointing game, mass in boxes and deletion score (`DeletionFaithfulness`,
    /// 16 more forwards per case for six methods) go with every case.
    public static func run(cases: [DatasetCase], classifier: CaseClassifier, mapping: [Int: Int],
                           groups: [String: String] = [:], camMethods: [CAMMethod] = [],
                           stage: String = "inference", progress: ProgressHandler? = nil) -> Outcome {
        let spec = classifier.inferenceSpec
        let height = spec.height, width = spec.width
        enum Result { case evaluated(EvaluatedCase), undecodable(String) }
        var completed = 0
        // One case per core (decode included): see InferencePool.
        let results = InferencePool.map(count: cases.count, classifier: classifier, done: { _ in
            completed += 1
            progress?(stage, completed, cases.count)
        }) { classifier, i -> Result in
            let c = cases[i]
            let image: RGBImage
            do { image = try ImageDecoder.decode(path: c.imagePath) } catch {
                return .undecodable("\(c.relativePath): \(String("\(error)".split(separator: "\n").first ?? "cannot decode"))")
            }
            let prepared = PreparedInput(image: image, spec: spec)
            let input = prepared.tensor
            let output = classifier.runHeldOut(prepared, maps: .all)
            let cam = output.gradcam
            var evaluated = EvaluatedCase(
                relativePath: c.relativePath, truth: c.truth.classIndex.flatMap { mapping[$0] },
                logits: output.logits.map(Double.init), group: groups[c.relativePath], seen: output.membership.seenInTraining,
                pointingHit: cam.flatMap { PointingGame.hit($0, boxes: c.labelBoxes) },
                camMassInBoxes: cam.flatMap { PointingGame.massInBoxes($0, boxes: c.labelBoxes) })
            evaluated.detections = output.detections
            evaluated.labelBoxes = c.labelBoxes
            evaluated.imageSize = (image.width, image.height)
            if let cam, let (row, column) = PointingGame.peak(cam) {  // the cell the pointing game judges
                evaluated.camPeak = ((Double(column) + 0.5) / Double(cam.width) * Double(image.width),
                                     (Double(row) + 0.5) / Double(cam.height) * Double(image.height))
            }
            if !camMethods.isEmpty && !evaluated.seen {
                let deletion = DeletionFaithfulness.scores(classifier, input: input, width: width, height: height,
                                                           prediction: output, methods: camMethods,
                                                           seed: ContentDigest.fnv1a(c.relativePath))
                for method in camMethods {
                    guard let map = output.map(method) else { continue }
                    evaluated.camMeasures[method.id] = CAMMeasure(hit: PointingGame.hit(map, boxes: c.labelBoxes),
                                                                  mass: PointingGame.massInBoxes(map, boxes: c.labelBoxes),
                                                                  deletion: deletion[method.id])
                }
            }
            return .evaluated(evaluated)
        }
        var evaluated: [EvaluatedCase] = [], undecodable: [String] = []
        for r in results {
            switch r {
            case .evaluated(let e): evaluated.append(e)
            case .undecodable(let u): undecodable.append(u)
            }
        }
        return Outcome(evaluated: evaluated, undecodable: undecodable)
    }
}
