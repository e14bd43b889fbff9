import ArgumentParser
import Engine
import Foundation
import Imaging
import Inference
import Model

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a weights file: architecture, parameters, classes, metadata, id.")

    @Option(name: .long, help: "Weights file (.safetensors) or a directory of fold members; default: the shipped model.")
    var weights: String?

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        let ensemble: ModelEnsemble
        do { ensemble = try ModelLoading.loadEnsemble(weights) } catch { ModelLoading.exitWithError(error) }
        let model = ensemble.members[0].classifier
        let i = model.info, c = model.config
        let input = "\(i.inputSize[0])×\(i.inputSize[1])"
        let f = c.totalStride
        let mapSize = "\((i.inputSize[0] + f - 1) / f)×\((i.inputSize[1] + f - 1) / f)"
        if json {
            Console.json(JSONOutput.line(InfoLine(
                path: i.path, weightsID: i.weightsID, architecture: i.architecture, parameters: i.parameterCount,
                classes: i.classes, inputSize: i.inputSize, mean: i.mean.map(JSONOutput.finite),
                std: i.std.map(JSONOutput.finite), featureChannels: c.featureChannels, blocks: c.blocks.count,
                metadata: i.metadata,
                members: ensemble.members.map { m in
                    InfoLine.Member(path: m.path, fold: m.fold, trainingSignatures: m.signatures?.count,
                                    weightsID: m.classifier.info.weightsID,
                                    gitCommit: m.classifier.info.metadata["git_commit"])
                })))
            return
        }
        if ensemble.isDirectory {
            Console.line("model         \(TerminalSafeText.clean(ensemble.path)): \(ensemble.members.count) members, id \(ensemble.ensembleID)")
            for m in ensemble.members {
                let meta = m.classifier.info.metadata
                let signatures = m.signatures.map { "\($0.count) training signatures" } ?? "no training signatures"
                Console.line("  \(TerminalSafeText.clean((m.path as NSString).lastPathComponent))  fold \(m.fold.map(String.init) ?? "-")  " +
                      "\(signatures)  id \(m.classifier.info.weightsID)  \(TerminalSafeText.clean(m.classifier.info.architecture))  " +
                      "commit \(TerminalSafeText.clean(meta["git_commit"] ?? "?"))  \(TerminalSafeText.clean(meta["date"] ?? ""))")
            }
            Console.line("first member:")
        }
        if !ensemble.hasSignatures {
            Console.line("note          no training signatures: fracview cannot tell which images this model has seen in training")
        }
        Console.line("weights       \(TerminalSafeText.clean(i.path))")
        Console.line("weights id    \(i.weightsID)")
        Console.line("architecture  \(TerminalSafeText.clean(i.architecture)) (width ×\(c.widthMult), depth ×\(c.depthMult), BN eps \(c.bnEps), " +
              "\(c.blocks.count) MBConv blocks, \(c.squeezeExcitation ? "SE, " : "")\(c.activation.rawValue))")
        Console.line("parameters    \(grouped(i.parameterCount))")
        Console.line("input         \(input) RGB, mean \(i.mean), std \(i.std)")
        Console.line("features      \(c.featureChannels) channels at \(mapSize); attention gate \(c.featureChannels) → \(c.featureChannels / 8) → 1")
        Console.line("classes       \(i.classes.count)")
        for (k, name) in i.classes.enumerated() { Console.line("  \(k)  \(TerminalSafeText.clean(name))") }
        Console.line("metadata")
        for key in i.metadata.keys.sorted() {
            // Long values (training signatures) are summarised: a screenful of base64 helps no one.
            let value = i.metadata[key]!
            let shown = value.count > 200 ? "\(value.prefix(60))… (\(value.count) characters)" : value
            Console.line("  \(TerminalSafeText.clean(key)): \(TerminalSafeText.clean(shown))")
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

/// `fracview info --json`: one line.
struct InfoLine: Encodable {
    let path: String, weightsID: String, architecture: String, parameters: Int, classes: [String], inputSize: [Int]
    let mean: [Float?], std: [Float?], featureChannels: Int, blocks: Int, metadata: [String: String], members: [Member]
    enum CodingKeys: String, CodingKey {
        case path, architecture, parameters, classes, mean, std, blocks, metadata, members
        case weightsID = "weights_id", inputSize = "input_size", featureChannels = "feature_channels"
    }

    struct Member: Encodable {
        let path: String, fold: Int?, trainingSignatures: Int?, weightsID: String, gitCommit: String?
        enum CodingKeys: String, CodingKey {
            case path, fold, trainingSignatures = "training_signatures", weightsID = "weights_id", gitCommit = "git_commit"
        }
        /// Unknown values are written as null, not left out: a reader can tell "no fold" from an older fracview.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(fold, forKey: .fold)
            try c.encode(trainingSignatures, forKey: .trainingSignatures)
            try c.encode(weightsID, forKey: .weightsID)
            try c.encode(gitCommit, forKey: .gitCommit)
        }
    }
}
