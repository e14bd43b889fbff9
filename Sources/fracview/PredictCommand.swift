import ArgumentParser
import Basics
import Foundation
import Imaging
import Inference
import Model
import Terminal

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify X-ray images: the top class and every class probability.",
        discussion: """
            With --json, one JSON object per image and line: {"image", "predicted", "probabilities", "members", \
            "seen_in_training"}, plus "gradcam", "attention" and "cam" (the map of --method, named in "cam_method") \
            (row-major arrays at feature-map resolution, values \
            in [0,1]) with --maps. With a fold ensemble the probabilities are the mean of the members that have not \
            seen the image (members lists their folds); when all have seen it, all are used and seen_in_training is \
            true. An unreadable image gives {"image", "error"}; the others still run and the exit status is 1 at the end.
            """)

    @Option(name: .long, help: "Weights file (.safetensors) or a directory of fold members; default: the shipped model.")
    var weights: String?

    @Flag(name: .long, help: "One JSON object per line.")
    var json = false

    @Flag(name: .long, help: "Also compute the Grad-CAM and attention maps.")
    var maps = false

    @Option(help: ArgumentHelp("With --maps: the CAM method of \"cam\" (\(CAMMethod.all.map(\.id).joined(separator: ", "))).",
                               valueName: "name"))
    var method: String = CAMMethod.preferred.id

    func validate() throws { _ = try CAMMethod.parse(method) }

    /// `--method`, checked by `validate`.
    private var camMethod: CAMMethod { CAMMethod.named(method) ?? .preferred }
    /// With --maps, the JSON's two maps: the notebook's Grad-CAM and the chosen method's.
    private var requested: CAMRequest { maps ? CAMRequest([.gradCAM, camMethod]) : .none }

    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    func run() throws {
        let ensemble: ModelEnsemble
        do { ensemble = try ModelLoading.loadEnsemble(weights) } catch { ModelLoading.exitWithError(error) }
        let model = EnsembleClassifier(ensemble)
        let info = ensemble.info
        if !json && !ensemble.hasSignatures {
            Console.error("note: the weights carry no training signatures: whether an image was seen in training is unknown")
        }
        var failures = 0
        let spec = model.inferenceSpec
        for path in images {
            let output: Prediction
            let size: (width: Int, height: Int)
            do {
                let image = try ImageDecoder.decode(path: path)
                size = (image.width, image.height)
                output = model.runHeldOut(PreparedInput(image: image, spec: spec), maps: requested)
            } catch {
                failures += 1
                let message = json ? "\(error)" : TerminalSafeText.clean("\(error)")
                if json {
                    Console.json(JSONOutput.line(["image": path, "error": message]))
                } else {
                    Console.error("fracview: \(message)")
                }
                continue
            }
            if json {
                Console.json(jsonLine(path: path, output: output, classes: info.classes, size: size))
            } else {
                Console.line(textBlock(path: path, output: output, classes: info.classes, size: size))
            }
            fflush(stdout)
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// One `predict --json` line.
    struct Line: Encodable {
        let image: String, predicted: String
        let probabilities: [String: Float?]
        let members: [Int]
        let seenInTraining: Bool
        let gradcam: [[Float?]]?, attention: [[Float?]]?
        /// With --maps: the map of the chosen method (`--method`), and its name.
        let cam: [[Float?]]?, camMethod: String?
        /// The localiser's boxes, best first, in image pixels; absent for a model without a localiser, empty when it
        /// found nothing.
        let boxes: [Box]?
        struct Box: Encodable {
            let box: [Double?]
            let score: Float?
        }
        enum CodingKeys: String, CodingKey {
            case image, predicted, probabilities, members, gradcam, attention, cam, boxes
            case camMethod = "cam_method"
            case seenInTraining = "seen_in_training"
        }
    }

    private func jsonLine(path: String, output: Prediction, classes: [String], size: (width: Int, height: Int)) -> String {
        JSONOutput.line(Line(image: path, predicted: classes[output.predicted],
                             probabilities: Dictionary(zip(classes, output.probabilities.map(JSONOutput.finite)),
                                                       uniquingKeysWith: { a, _ in a }),
                             members: output.membership.used, seenInTraining: output.membership.seenInTraining,
                             gradcam: maps ? output.gradcam.map(JSONOutput.rows) : nil,
                             attention: maps ? JSONOutput.rows(output.attention) : nil,
                             cam: maps ? output.map(camMethod).map(JSONOutput.rows) : nil,
                             camMethod: maps ? camMethod.id : nil,
                             boxes: output.detections?.map {
                                 Line.Box(box: $0.box.pixels(width: size.width, height: size.height).map { $0.isFinite ? $0 : nil },
                                          score: JSONOutput.finite($0.score))
                             }))
    }

    private func textBlock(path: String, output: Prediction, classes: [String], size: (width: Int, height: Int)) -> String {
        let classes = classes.map { TerminalSafeText.clean($0) }
        let width = classes.map(\.count).max() ?? 0
        var lines = ["\(TerminalSafeText.clean(path)): \(classes[output.predicted]) (\(percent(output.probabilities[output.predicted])))  \(output.membership.label)"]
        let order = output.probabilities.indices.sorted { output.probabilities[$0] > output.probabilities[$1] }
        for i in order {
            let name = classes[i].padding(toLength: width, withPad: " ", startingAt: 0)
            let bar = String(repeating: "█", count: Int((output.probabilities[i] * 30).rounded()))
            lines.append("  \(name)  \(percent(output.probabilities[i]).leftPad(6))  \(bar)")
        }
        if let detections = output.detections {
            if let top = detections.first {
                let p = top.box.pixels(width: size.width, height: size.height).map { String(format: "%.0f", $0) }
                lines.append("  fracture box  x \(p[0])–\(p[2]), y \(p[1])–\(p[3]) px  (score \(String(format: "%.2f", top.score)))")
            } else {
                lines.append("  fracture box  none: no fracture found")
            }
        }
        return lines.joined(separator: "\n")
    }

    private func percent(_ p: Float) -> String { String(format: "%.1f%%", Double(p) * 100) }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
