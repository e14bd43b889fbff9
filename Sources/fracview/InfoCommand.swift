import ArgumentParser
import Engine
import Foundation
import Model
import Review

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a weights file: architecture, parameters, classes, metadata, id.")

    @Option(name: .long, help: "Weights file (.safetensors); default: the shipped model.")
    var weights: String?

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        let model: FractureClassifier
        do { model = try ModelLoading.load(weights) } catch { ModelLoading.exitWithError(error) }
        let i = model.info, c = model.config
        let input = "\(i.inputSize[0])×\(i.inputSize[1])"
        let f = c.totalStride
        let mapSize = "\((i.inputSize[0] + f - 1) / f)×\((i.inputSize[1] + f - 1) / f)"
        if json {
            let meta = i.metadata.keys.sorted().map { ($0, JSONLine.string(i.metadata[$0]!)) }
            print(JSONLine.object([
                ("path", JSONLine.string(i.path)), ("weights_id", JSONLine.string(i.weightsID)),
                ("architecture", JSONLine.string(i.architecture)), ("parameters", "\(i.parameterCount)"),
                ("classes", "[" + i.classes.map(JSONLine.string).joined(separator: ", ") + "]"),
                ("input_size", "[\(i.inputSize[0]), \(i.inputSize[1])]"),
                ("mean", "[" + i.mean.map { JSONLine.number($0) }.joined(separator: ", ") + "]"),
                ("std", "[" + i.std.map { JSONLine.number($0) }.joined(separator: ", ") + "]"),
                ("feature_channels", "\(c.featureChannels)"), ("blocks", "\(c.blocks.count)"),
                ("metadata", JSONLine.object(meta)),
            ]))
            return
        }
        print("weights       \(TerminalSafeText.clean(i.path))")
        print("weights id    \(i.weightsID)")
        print("architecture  \(i.architecture) (width ×\(c.widthMult), depth ×\(c.depthMult), BN eps \(c.bnEps), " +
              "\(c.blocks.count) MBConv blocks, \(c.squeezeExcitation ? "SE, " : "")\(c.activation.rawValue))")
        print("parameters    \(grouped(i.parameterCount))")
        print("input         \(input) RGB, mean \(i.mean), std \(i.std)")
        print("features      \(c.featureChannels) channels at \(mapSize); attention gate \(c.featureChannels) → \(c.featureChannels / 8) → 1")
        print("classes       \(i.classes.count)")
        for (k, name) in i.classes.enumerated() { print("  \(k)  \(TerminalSafeText.clean(name))") }
        print("metadata")
        for key in i.metadata.keys.sorted() {
            print("  \(TerminalSafeText.clean(key)): \(TerminalSafeText.clean(i.metadata[key]!))")
        }
    }

    private func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (k, ch) in s.enumerated() {
            if k > 0 && (s.count - k) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }
}
