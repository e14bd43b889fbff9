import Basics
import Engine
import Foundation

/// The model's description, from the weights file's metadata (defaults are the notebook's).
public struct ModelInfo: Sendable {
    public let architecture: String
    public let classes: [String]
    /// [height, width]
    public let inputSize: [Int]
    public let mean: [Float]
    public let std: [Float]
    /// Every `__metadata__` key as stored (provenance keys included), except the training signatures: the ensemble
    /// parses them from the file, and `fracview info` reads them there again. Kept here, their text (2.5 MB a member,
    /// 15 members shipped) was an eighth of the process's memory.
    public let metadata: [String: String]
    public let parameterCount: Int
    /// A short stable id of the weights (hex of a SHA-256 prefix of the file), used to key caches and CSV rows.
    public let weightsID: String
    public let path: String
    /// A crop classifier's crop rule (metadata `input` = crop); nil for a whole-image model.
    public var crop: CropSettings? = nil

    /// The metadata a loaded model keeps: all but the long training signatures (see `metadata`).
    public static func retained(_ metadata: [String: String]) -> [String: String] {
        metadata.filter { $0.key != "training_signatures" }
    }
}

/// The notebook's FractureClassifier: EfficientNet features → attention gate → pool → MLP head.
/// Not thread-safe: use one instance per thread.
public final class FractureClassifier {
    public let info: ModelInfo
    public let config: EfficientNetConfig
    let features: EfficientNetFeatures
    public let head: ClassifierHead
    /// A digest of the backbone's tensors (names, dtypes, shapes, bytes) and configuration, computed only for a
    /// classifier loaded to share its backbone: members with the same one (the crop probes' frozen ImageNet Lite0)
    /// share one in memory.
    let backboneDigest: String?
    let backboneParameterCount: Int
    private var plan: EfficientNetFeatures.Plan?
    var arena = ActivationArena()
    private var inputTensor: Tensor?

    /// Loads a `.safetensors` file (see README "Weights format"). Throws an error whose description is one line
    /// naming the first bad tensor or key. With a `pool`, a classifier there whose backbone is byte-identical lends
    /// it (read, checked and packed once).
    public convenience init(contentsOf path: String, sharingBackboneWith pool: [FractureClassifier]? = nil) throws {
        try self.init(file: SafeTensorsFile(path: path), sharingBackboneWith: pool)
    }

    /// The same from an open file (a member folder reads each file's metadata first, to sort the members by role).
    public init(file: SafeTensorsFile, sharingBackboneWith pool: [FractureClassifier]? = nil) throws {
        let path = file.path
        let fail = { (reason: String) -> Error in WeightsError(path: path, reason: reason) }
        let meta = try ModelMetadata(file.metadata, fail: fail)
        guard meta.role == .classifier else {
            throw fail("a \(meta.role.rawValue) member, not a classifier: pass the folder that holds it with its classifier members")
        }
        guard let config = EfficientNetConfig.named(meta.architecture, widthMult: meta.widthMult, depthMult: meta.depthMult,
                                                    bnEps: meta.bnEps, headChannels: meta.headChannels) else {
            throw fail("unknown architecture \"\(meta.architecture)\" (known: \(EfficientNetConfig.knownNames.joined(separator: ", ")))")
        }
        // Hash the file on another core while the weights are read and folded (both only read the mapping).
        nonisolated(unsafe) var digest = ""
        let hashing = DispatchGroup()
        DispatchQueue.global(qos: .userInitiated).async(group: hashing) { digest = ContentDigest.sha256Hex(file.bytes) }
        defer { hashing.wait() }
        var reader = WeightReader(file: file)
        let backboneHash = pool == nil ? nil : Self.backboneDigest(file, config: config)
        backboneDigest = backboneHash
        if let backboneHash, let twin = pool?.first(where: { $0.backboneDigest == backboneHash }) {
            features = twin.features
            backboneParameterCount = twin.backboneParameterCount
            reader.markShared(prefix: "base_model.features.", parameterCount: backboneParameterCount)
        } else {
            features = try EfficientNetFeatures(config: config, prefix: "base_model.features", reader: &reader)
            backboneParameterCount = reader.parameterCount
        }
        head = try ClassifierHead(channels: config.featureChannels, classCount: meta.classes.count, reader: &reader)
        try reader.checkNoUnexpected(prefixes: ["base_model.features.", "attention_gate.", "classifier."],
                                     architecture: config.name)
        self.config = config
        hashing.wait()
        info = ModelInfo(architecture: meta.architecture, classes: meta.classes, inputSize: meta.inputSize, mean: meta.mean,
                         std: meta.std, metadata: ModelInfo.retained(file.metadata), parameterCount: reader.parameterCount,
                         weightsID: String(digest.prefix(16)), path: path, crop: meta.crop)
    }

    private static func backboneDigest(_ file: SafeTensorsFile, config: EfficientNetConfig) -> String {
        let backbone = file.entries.filter { $0.name.hasPrefix("base_model.features.") }
        let description = Data((["\(config)"] + backbone.map { "\($0.name)|\($0.dtype.rawValue)|\($0.shape)" }).joined(separator: "\n").utf8)
        let bytes = file.bytes
        return description.withUnsafeBytes { d in
            ContentDigest.sha256Hex(parts: [d] + backbone.map { UnsafeRawBufferPointer(rebasing: bytes[$0.offset..<($0.offset + $0.byteCount)]) })
        }
    }

    private init(sharing other: FractureClassifier) {
        info = other.info; config = other.config; features = other.features; head = other.head
        backboneDigest = other.backboneDigest; backboneParameterCount = other.backboneParameterCount
    }

    /// Whether `other` runs the very same backbone object (shared at load): its features can be computed once.
    public func sharesBackbone(with other: FractureClassifier) -> Bool { features === other.features }

    /// Makes this classifier use `other`'s activation buffers (see `ActivationArena`): only for classifiers that
    /// run one after another on one thread, like the members of an ensemble.
    public func shareActivations(with other: FractureClassifier) {
        arena = other.arena
        plan = nil
    }

    /// Another instance on the same weights (read-only after load, so shared) with its own activation buffers:
    /// one per thread when images run one per core.
    public func replica() -> FractureClassifier { FractureClassifier(sharing: self) }

    /// Runs the model on a CHW Float32 input of size info.inputSize (already normalised).
    public func run(input: [Float], maps: CAMRequest) -> Prediction {
        let h = info.inputSize[0], w = info.inputSize[1]
        precondition(input.count == 3 * h * w, "FractureClassifier.run: input has \(input.count) values, expected 3×\(h)×\(w)")
        let x = inputTensor ?? Tensor(shape: [1, 3, h, w])
        inputTensor = x
        input.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress!, count: input.count) }
        let channelsLast = features.forwardChannelsLast(x, plan: plan(for: x))
        var output: Prediction!
        LayerProfile.measure("head", "\(head.channels) \(channelsLast.shape[1])×\(channelsLast.shape[2])", flops: 0) {
            output = head.forward(channelsLast: channelsLast, maps: maps)
        }
        return output
    }

    /// The backbone's output as the head reads it, channels-last [1, h, w, C] (a copy: the arena's buffer is
    /// reused by the next forward).
    public func backboneChannelsLast(_ x: Tensor) -> Tensor {
        let y = features.forwardChannelsLast(x, plan: plan(for: x))
        return Tensor(shape: y.shape, values: y.values)
    }

    /// The backbone alone (features[-1] output, [1, C, h, w]); the tensor is reused by the next call.
    /// `observe` sees the intermediate activations (see `EfficientNetFeatures.forward`).
    public func backbone(_ x: Tensor, observe: ((String, Tensor) -> Void)? = nil) -> Tensor {
        features.forward(x, plan: plan(for: x), observe: observe).features
    }

    /// The plan for this input size on this classifier's arena, made when either changes.
    private func plan(for x: Tensor) -> EfficientNetFeatures.Plan { features.plan(for: x, cached: &plan, arena: arena) }
}

/// Where the shipped model lives: the fold ensemble's directory weights/fracture-classifier/, or a single file
/// weights/fracture-classifier.safetensors.
public enum DefaultWeights {
    public static let directoryName = "fracture-classifier"
    public static let fileName = "fracture-classifier.safetensors"
    /// $FRACVIEW_WEIGHTS, else weights/<directoryName> or weights/<fileName> under the working directory or above
    /// the executable; nil if none.
    public static func locate() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env["FRACVIEW_WEIGHTS"], !p.isEmpty { return p }
        for base in ResourceFolders.candidates() {
            for name in [directoryName, fileName] {
                let candidate = (base as NSString).appendingPathComponent("weights/\(name)")
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
        }
        return nil
    }
    public static let missingMessage =
        "no default model found: pass --weights FILE|DIR, set FRACVIEW_WEIGHTS, or run from the fracview checkout (weights/)"
}
