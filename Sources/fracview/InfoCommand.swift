import ArgumentParser
import Basics
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
        // A loaded model keeps no training signatures' text (`ModelInfo.metadata`): the header is read again.
        let storedMetadata = (try? SafeTensorsFile(path: i.path).metadata) ?? i.metadata
        let input = "\(i.inputSize[0])×\(i.inputSize[1])"
        let f = c.totalStride
        let mapSize = "\((i.inputSize[0] + f - 1) / f)×\((i.inputSize[1] + f - 1) / f)"
        if json {
            Console.json(JSONOutput.line(InfoLine(
                path: i.path, weightsID: i.weightsID, architecture: i.architecture, parameters: i.parameterCount,
                classes: i.classes, inputSize: i.inputSize, mean: i.mean.map(JSONOutput.finite),
                std: i.std.map(JSONOutput.finite), featureChannels: c.featureChannels, blocks: c.blocks.count,
                metadata: storedMetadata,
                members: (ensemble.members + ensemble.cropMembers).map { m in
                    InfoLine.Member(path: m.path, role: "classifier", input: m.classifier.info.crop == nil ? "image" : "crop",
                                    fold: m.fold, trainingSignatures: m.signatures?.count,
                                    weightsID: m.classifier.info.weightsID,
                                    gitCommit: m.classifier.info.metadata["git_commit"])
                } + ensemble.localisers.map { l in
                    InfoLine.Member(path: l.path, role: "localiser", input: "image", fold: l.fold,
                                    trainingSignatures: l.localiser.info.metadata["training_images"].flatMap { Int($0) },
                                    weightsID: l.localiser.info.weightsID, gitCommit: l.localiser.info.metadata["git_commit"])
                })))
            return
        }
        if ensemble.isDirectory {
            var parts = ["\(ensemble.members.count) members"]
            if !ensemble.localisers.isEmpty { parts.append("\(ensemble.localisers.count) localisers") }
            if !ensemble.cropMembers.isEmpty { parts.append("\(ensemble.cropMembers.count) crop classifiers") }
            Console.line("model         \(TerminalSafeText.clean(ensemble.path)): \(parts.joined(separator: ", ")), id \(ensemble.ensembleID)")
            let rows: [(String, ModelInfo, Int?, String)] = ensemble.members.map { ("classifier", $0.classifier.info, $0.fold, $0.path) }
                + ensemble.localisers.map { ("localiser", $0.localiser.info, $0.fold, $0.path) }
                + ensemble.cropMembers.map { ("crop classifier", $0.classifier.info, $0.fold, $0.path) }
            for (role, info, fold, path) in rows {
                let meta = info.metadata
                let signatures = meta["training_images"].map { "\(TerminalSafeText.clean($0)) training images" } ?? "no training signatures"
                Console.line("  \(TerminalSafeText.clean((path as NSString).lastPathComponent))  \(role)  fold \(fold.map(String.init) ?? "-")  " +
                      "\(signatures)  \(info.inputSize[0])×\(info.inputSize[1])  id \(info.weightsID)  \(TerminalSafeText.clean(info.architecture))  " +
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
        for key in storedMetadata.keys.sorted() {
            // Long values (training signatures) are summarised: a screenful of base64 helps no one.
            let value = storedMetadata[key]!
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
        /// `role`: classifier or localiser; `input`: image, or crop for a crop classifier.
        let path: String, role: String, input: String, fold: Int?, trainingSignatures: Int?, weightsID: String, gitCommit: String?
        enum CodingKeys: String, CodingKey {
            case path, role, input, fold, trainingSignatures = "training_signatures", weightsID = "weights_id", gitCommit = "git_commit"
        }
        /// Unknown values are written as null, not left out: a reader can tell "no fold" from an older fracview.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(role, forKey: .role)
            try c.encode(input, forKey: .input)
            try c.encode(fold, forKey: .fold)
            try c.encode(trainingSignatures, forKey: .trainingSignatures)
            try c.encode(weightsID, forKey: .weightsID)
            try c.encode(gitCommit, forKey: .gitCommit)
        }
    }
}
