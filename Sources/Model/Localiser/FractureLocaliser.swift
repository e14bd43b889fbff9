import Engine
import Foundation

/// The fracture localiser (training/localiser.py): EfficientNet features → a CenterNet-style head, two 1×1 convs
/// (C → C/8, ReLU, → 5) giving `LocaliserMaps` on the last feature map's grid. Its member file has metadata
/// `role` = localiser and tensors `base_model.features.*` and `box_head.{0,2}.*`.
/// Not thread-safe: use one instance per thread (`replica`).
public final class FractureLocaliser {
    public let info: ModelInfo
    public let config: EfficientNetConfig
    let features: EfficientNetFeatures
    let hidden: Conv2d
    /// box_head.2: [5, C/8] row-major and its bias.
    let outputWeight: [Float]
    let outputBias: [Float]
    private var plan: EfficientNetFeatures.Plan?
    var arena = ActivationArena()
    private var inputTensor: Tensor?
    private var hiddenTensor: Tensor?

    public static let outputChannels = 5

    /// Loads a localiser member; errors are one line naming the file and the first bad key or tensor.
    public convenience init(contentsOf path: String) throws { try self.init(file: SafeTensorsFile(path: path)) }

    /// The same from an open file.
    public init(file: SafeTensorsFile) throws {
        let path = file.path
        let fail = { (reason: String) -> Error in WeightsError(path: path, reason: reason) }
        let meta = try ModelMetadata(file.metadata, fail: fail)
        guard meta.role == .localiser else { throw fail("not a localiser (its metadata role is \(meta.role.rawValue))") }
        guard let config = EfficientNetConfig.named(meta.architecture, widthMult: meta.widthMult, depthMult: meta.depthMult,
                                                    bnEps: meta.bnEps, headChannels: meta.headChannels) else {
            throw fail("unknown architecture \"\(meta.architecture)\" (known: \(EfficientNetConfig.knownNames.joined(separator: ", ")))")
        }
        var reader = WeightReader(file: file)
        features = try EfficientNetFeatures(config: config, prefix: "base_model.features", reader: &reader)
        let c = config.featureChannels, c8 = max(c / 8, 1)
        hidden = try reader.pointwiseConv("box_head.0", inChannels: c, outChannels: c8, activation: .relu)
        hidden.prepareChannelsLast(keepingNCHW: false)  // only the channels-last forward runs it
        outputWeight = try reader.tensor("box_head.2.weight", shape: [Self.outputChannels, c8, 1, 1])
        outputBias = try reader.tensor("box_head.2.bias", shape: [Self.outputChannels])
        try reader.checkNoUnexpected(prefixes: ["base_model.features.", "box_head."], architecture: config.name)
        self.config = config
        info = ModelInfo(architecture: meta.architecture, classes: [], inputSize: meta.inputSize, mean: meta.mean,
                         std: meta.std, metadata: ModelInfo.retained(file.metadata), parameterCount: reader.parameterCount,
                         weightsID: String(ContentDigest.sha256Hex(file.bytes).prefix(16)), path: path)
    }

    private init(sharing other: FractureLocaliser) {
        info = other.info; config = other.config; features = other.features; hidden = other.hidden
        outputWeight = other.outputWeight; outputBias = other.outputBias
    }

    /// Another instance on the same weights with its own activation buffers.
    public func replica() -> FractureLocaliser { FractureLocaliser(sharing: self) }

    /// Runs on the same thread as `classifier` (one after the other): use its activation buffers.
    public func shareActivations(with classifier: FractureClassifier) {
        arena = classifier.arena
        plan = nil
    }

    /// The maps for a CHW Float32 input of size info.inputSize, normalised as the classifier's input.
    public func run(input: [Float]) -> LocaliserMaps {
        let h = info.inputSize[0], w = info.inputSize[1]
        precondition(input.count == 3 * h * w, "FractureLocaliser.run: input has \(input.count) values, expected 3×\(h)×\(w)")
        let x = inputTensor ?? Tensor(shape: [1, 3, h, w])
        inputTensor = x
        input.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress!, count: input.count) }
        let plan = plan(for: x)
        let f = features.forwardChannelsLast(x, plan: plan)
        let (gh, gw) = (f.shape[1], f.shape[2])
        let c8 = hidden.outChannels
        var raw = [Float](repeating: 0, count: gh * gw * Self.outputChannels)
        LayerProfile.measure("box head", "\(config.featureChannels) \(gh)×\(gw)", flops: 0) {
            let t = hiddenTensor.flatMap { $0.shape == [1, gh, gw, c8] ? $0 : nil } ?? Tensor(shape: [1, gh, gw, c8])
            hiddenTensor = t
            hidden.forwardChannelsLast(f, into: t, workspace: plan.workspace)
            // The last 1×1 conv has five outputs: a plain loop beats a GEMM call at this size.
            let hv = t.data
            for cell in 0..<(gh * gw) {
                for o in 0..<Self.outputChannels {
                    var s = outputBias[o]
                    for k in 0..<c8 { s += hv[cell * c8 + k] * outputWeight[o * c8 + k] }
                    raw[cell * Self.outputChannels + o] = s
                }
            }
        }
        return LocaliserMaps(width: gw, height: gh, raw: raw)
    }

    private func plan(for x: Tensor) -> EfficientNetFeatures.Plan { features.plan(for: x, cached: &plan, arena: arena) }
}
