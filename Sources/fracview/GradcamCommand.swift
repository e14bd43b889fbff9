// `fracview gradcam`: the notebook's Grad-CAM figure for one image, as a PNG.
import ArgumentParser
import Basics
import Foundation
import Imaging
import Inference
import Model
import Reports

struct GradcamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam",
        abstract: "Write the three-panel Grad-CAM figure (original, overlay, attention map) of one image as a PNG.",
        discussion: """
            The overlay is the notebook's: the Grad-CAM map of the predicted class, resized to the image, \
            coloured and blended 0.6·image + 0.4·heat. The attention map is the gate's output, scaled to its \
            own range (shown under it).
            """)

    @Option(help: "Model weights (.safetensors). Default: $FRACVIEW_WEIGHTS or weights/\(DefaultWeights.fileName).")
    var weights: String?

    @Argument(help: "The X-ray (JPEG or PNG).")
    var image: String

    @Option(name: .shortAndLong, help: "Where to write the PNG.")
    var output: String

    @Option(help: "Colour map of the heat: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.jet.rawValue

    @Option(help: ArgumentHelp("CAM method of the overlay: \(CAMMethod.all.map(\.id).joined(separator: ", ")).",
                               valueName: "name"))
    var method: String = CAMMethod.preferred.id

    @Option(help: "Largest side of each panel in pixels (the image keeps its aspect ratio).")
    var panelSize: Int = 320

    func validate() throws {
        _ = try CAMMethod.parse(method)
        guard (64...2048).contains(panelSize) else { throw ValidationError("--panel-size must be between 64 and 2048") }
        guard Colormap(rawValue: colormap) != nil else {
            throw ValidationError("unknown colormap '\(colormap)'; use one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        do {
            try render()
        } catch {
            // One line, whatever failed (weights, image, output).
            let message = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            Console.error("fracview gradcam: \(message)")
            throw ExitCode.failure
        }
    }

    private func render() throws {
        guard let weightsPath = weights ?? DefaultWeights.locate() else {
            throw CommandFailure(DefaultWeights.missingMessage)
        }
        let ensemble = try ModelEnsemble(path: weightsPath)
        let model = EnsembleClassifier(ensemble)
        let info = ensemble.info
        guard info.inputSize.count == 2, info.mean.count == 3, info.std.count == 3 else {
            throw CommandFailure("\(weightsPath): model metadata has no usable input_size/mean/std")
        }
        let picture = try ImageDecoder.decode(path: image)
        let camMethod = try CAMMethod.parse(method)
        let result = model.runHeldOut(PreparedInput(image: picture, spec: model.inferenceSpec), maps: CAMRequest([camMethod]))
        guard let cam = result.map(camMethod) else { throw CommandFailure("the model returned no \(camMethod.title) map") }
        let predicted = result.predicted
        let label = predicted < info.classes.count ? info.classes[predicted] : "class \(predicted)"
        let caption = "\(Self.printable(URL(fileURLWithPath: image).lastPathComponent))  |  \(info.architecture), weights \(info.weightsID)"
        let figure = GradcamFigure.render(
            image: picture,
            gradcam: cam, method: camMethod.title, attention: result.attention,
            predicted: label, confidence: result.probabilities[predicted], colormap: Colormap(rawValue: colormap) ?? .jet, panelSize: panelSize,
            caption: caption, detections: result.detections)
        try PNGWriter.write(figure, to: output)
        Console.line("\(TerminalSafeText.clean(output)): \(TerminalSafeText.clean(label)) (\(String(format: "%.1f", Double(result.probabilities[predicted]) * 100))%) \(result.membership.label)")
    }

    /// File names may hold anything; the figure's font draws ASCII only, and control characters never.
    static func printable(_ name: String) -> String {
        String(name.unicodeScalars.map { (32...126).contains($0.value) ? Character($0) : "?" })
    }
}
