import Audit
import Basics
import Engine
import Foundation
import Imaging
import Model

/// The model `--weights` names: one weights file, or a directory of member files (a fold ensemble such as
/// weights/fracture-classifier/fold-0…4.safetensors). Members must agree on classes (same names, same order),
/// input size, mean and std; their architectures may differ (each member runs its own backbone).
///
/// Member metadata read here (docs/engine.md): `role` (classifier, the default, or localiser), `fold` (JSON
/// integer, the fold the member held out), `folds_manifest` (kept for `info`) and `training_signatures` (see
/// `TrainingSignatures`). Localiser members are the pipeline's first stage: each case is localised by the
/// localisers of the folds its classification used (all of them for an image no member trained on).
public final class ModelEnsemble {
    public struct Member {
        public let classifier: FractureClassifier
        /// The member's id in `Membership.used`: its fold, else its position.
        public let id: Int
        public let fold: Int?
        public let signatures: TrainingSignatures?
        public var path: String { classifier.info.path }
    }

    /// A localiser member: the fold it held out, else its position among the localisers.
    public struct LocaliserMember {
        public let localiser: FractureLocaliser
        public let id: Int
        public let fold: Int?
        public var path: String { localiser.info.path }
    }

    public let path: String
    /// The whole-image classifiers.
    public let members: [Member]
    /// The crop classifiers (metadata `input` = crop): they classify the crop around the localiser's top box, and
    /// their mean probabilities are averaged with the whole-image classifiers'. Empty for most models.
    public let cropMembers: [Member]
    /// The localiser stage, empty for a classifier alone.
    public let localisers: [LocaliserMember]
    /// Keys the prediction cache: the member weights ids, hashed together (a single file keeps its own id).
    public let ensembleID: String

    public var info: ModelInfo { members[0].classifier.info }
    public var isDirectory: Bool { members.count > 1 || path != members[0].path }
    public var hasSignatures: Bool { members.contains { $0.signatures != nil } }

    /// The most members a directory may hold (a 5- or 10-fold ensemble is the norm).
    public static let maxMembers = 16

    /// Loads a file or a directory of `*.safetensors` members (sorted by name). Errors are one line.
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw WeightsError(path: path, reason: "no such file or directory")
        }
        let files: [String]
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.hasSuffix(".safetensors") }.sorted().map { (path as NSString).appendingPathComponent($0) }
            guard !files.isEmpty else {
                throw WeightsError(path: path, reason: "the directory holds no member files (*.safetensors)")
            }
            // Each member is held in memory (about 28 MB for Lite0, 70 MB for B4): 60 of them exhausted 2 GB.
            guard files.count <= Self.maxMembers else {
                throw WeightsError(path: path, reason: "\(files.count) member files, more than the \(Self.maxMembers) an ensemble may have")
            }
        } else {
            files = [path]
        }
        var members: [Member] = []
        var cropMembers: [Member] = []
        var localisers: [LocaliserMember] = []
        var parsedSignatures: [String: TrainingSignatures] = [:]  // by their text, for the load only
        for file in files {
            // Each file is opened once: its metadata sorts it, then the member is built from it.
            let opened = try SafeTensorsFile(path: file)
            let meta = try ModelMetadata(opened.metadata) { WeightsError(path: file, reason: $0) }
            if meta.role == .localiser {
                guard isDir.boolValue else {
                    throw WeightsError(path: file, reason: "a localiser member, not a classifier: pass the folder that holds it with its classifier members")
                }
                let localiser = try FractureLocaliser(file: opened)
                let fold = try Self.fold(localiser.info.metadata, file: file)
                if let twin = localisers.first(where: { $0.id == (fold ?? localisers.count) }) {
                    throw WeightsError(path: path, reason: "two localiser members have the same fold (\(twin.path) and \(file))")
                }
                localisers.append(LocaliserMember(localiser: localiser, id: fold ?? localisers.count, fold: fold))
                continue
            }
            // The crop probes share one frozen backbone: loaded once.
            let classifier = try FractureClassifier(file: opened, sharingBackboneWith: meta.crop == nil ? nil : cropMembers.map(\.classifier))
            let fold = try Self.fold(opened.metadata, file: file)
            var signatures: TrainingSignatures?
            if let raw = opened.metadata["training_signatures"] {
                // A fold's whole-image and crop members carry the same signatures: parsed once, held once.
                if let known = parsedSignatures[raw] {
                    signatures = known
                } else {
                    do { signatures = try TrainingSignatures(metadataValue: raw) } catch {
                        throw WeightsError(path: file, reason: "metadata training_signatures \(error)")
                    }
                    parsedSignatures[raw] = signatures
                }
            }
            let isCrop = meta.crop != nil
            if isCrop && !isDir.boolValue {
                throw WeightsError(path: file, reason: "a crop classifier member: pass the folder that holds it with its localiser and whole-image members")
            }
            // Every classifier agrees on the classes (the crop's probabilities are averaged with the whole image's);
            // the input size, normalisation and crop rule within each kind.
            let sameKind = isCrop ? cropMembers : members
            if let first = (members + cropMembers).first?.classifier.info, classifier.info.classes != first.classes {
                throw WeightsError(path: file, reason: "its classes (\(classifier.info.classes.joined(separator: ", "))) differ from \(first.path)'s; members of one model must agree")
            }
            if let first = sameKind.first?.classifier.info {
                let info = classifier.info
                func refuse(_ what: String) -> WeightsError {
                    WeightsError(path: file, reason: "\(what) differ from \(first.path)'s; members of one model must agree")
                }
                if info.inputSize != first.inputSize { throw refuse("its input size \(info.inputSize)") }
                if info.mean != first.mean || info.std != first.std { throw refuse("its mean/std") }
                if info.crop != first.crop { throw refuse("its crop rule") }
            }
            // Checked as each member arrives, so a folder of copies stops at the second one.
            if let twin = sameKind.first(where: { $0.id == (fold ?? sameKind.count) }) {
                throw WeightsError(path: path, reason: "two \(isCrop ? "crop " : "")members have the same fold (\(twin.classifier.info.path) and \(file))")
            }
            let member = Member(classifier: classifier, id: fold ?? sameKind.count, fold: fold, signatures: signatures)
            if isCrop { cropMembers.append(member) } else { members.append(member) }
        }
        guard !members.isEmpty else {
            throw WeightsError(path: path, reason: "the directory holds no whole-image classifier members (only localiser or crop members); a model needs them")
        }
        if let crop = cropMembers.first, localisers.isEmpty {
            throw WeightsError(path: crop.path, reason: "a crop classifier member, but the directory has no localiser members to say where to crop")
        }
        if let first = localisers.first {
            if let odd = localisers.first(where: { $0.localiser.info.inputSize != first.localiser.info.inputSize }) {
                throw WeightsError(path: odd.path, reason: "its input size differs from \(first.path)'s; localisers of one model must agree")
            }
            // A held-out case is localised by the localiser of its own fold: every localiser fold must be a
            // classifier fold, or a case could be localised by a member that trained on it.
            let folds = Set(members.compactMap(\.fold))
            if let stray = localisers.first(where: { $0.fold.map { !folds.contains($0) } ?? !folds.isEmpty }) {
                throw WeightsError(path: stray.path, reason: "a localiser of fold \(stray.fold.map(String.init) ?? "none"), which no classifier member has")
            }
            if let stray = cropMembers.first(where: { $0.fold.map { !folds.contains($0) } ?? !folds.isEmpty }) {
                throw WeightsError(path: stray.path, reason: "a crop classifier of fold \(stray.fold.map(String.init) ?? "none"), which no whole-image member has")
            }
        }
        self.path = path
        self.members = members
        self.cropMembers = cropMembers
        self.localisers = localisers
        let ids = members.map(\.classifier.info.weightsID) + localisers.map(\.localiser.info.weightsID)
            + cropMembers.map(\.classifier.info.weightsID)
        if ids.count == 1 {
            ensembleID = ids[0]
        } else {
            ensembleID = String(ContentDigest.sha256Hex(Data(ids.joined(separator: "+").utf8)).prefix(16))
        }
        ModelEnsemble.shareActivations(members + cropMembers, localisers)
    }

    private init(path: String, members: [Member], cropMembers: [Member], localisers: [LocaliserMember], ensembleID: String) {
        self.path = path; self.members = members; self.cropMembers = cropMembers; self.localisers = localisers
        self.ensembleID = ensembleID
        ModelEnsemble.shareActivations(members + cropMembers, localisers)
    }

    /// `fold` from a member's metadata, checked.
    private static func fold(_ meta: [String: String], file: String) throws -> Int? {
        guard let raw = meta["fold"] else { return nil }
        guard let v = Int(raw.trimmingCharacters(in: .whitespaces)), (0...10_000).contains(v) else {
            throw WeightsError(path: file, reason: "metadata fold must be a JSON integer between 0 and 10000, got \(raw.prefix(40))")
        }
        return v
    }

    /// The members run one after another on one thread: one set of activation buffers serves them all.
    private static func shareActivations(_ members: [Member], _ localisers: [LocaliserMember]) {
        for m in members.dropFirst() { m.classifier.shareActivations(with: members[0].classifier) }
        for l in localisers { l.localiser.shareActivations(with: members[0].classifier) }
    }

    /// The localisers for a case whose classification used `membership`: those of the same folds, or all of them
    /// when the members have no folds. Empty without a localiser stage.
    public func localisers(for membership: Membership) -> [LocaliserMember] { Self.ofFolds(localisers, \.fold, membership) }

    /// The crop classifiers for a case, by the same rule as the localisers.
    public func cropMembers(for membership: Membership) -> [Member] { Self.ofFolds(cropMembers, \.fold, membership) }

    /// A later stage's members for a case: those of the folds its classification used, or all of them.
    private static func ofFolds<T>(_ members: [T], _ fold: KeyPath<T, Int?>, _ membership: Membership) -> [T] {
        let matching = members.filter { $0[keyPath: fold].map(membership.used.contains) ?? false }
        return matching.isEmpty ? members : matching
    }

    /// The same ensemble with each member's classifier replicated (`FractureClassifier.replica`).
    public func replica() -> ModelEnsemble {
        func copy(_ m: Member) -> Member { Member(classifier: m.classifier.replica(), id: m.id, fold: m.fold, signatures: m.signatures) }
        return ModelEnsemble(path: path, members: members.map(copy), cropMembers: cropMembers.map(copy), localisers: localisers.map {
            LocaliserMember(localiser: $0.localiser.replica(), id: $0.id, fold: $0.fold)
        }, ensembleID: ensembleID)
    }

    /// Which members have seen the image (by its thumbnail), and which to average.
    public func membership(of thumbnail: Thumbnail?) -> Membership {
        let ids = members.map(\.id)
        guard hasSignatures else {
            return Membership(used: ids.sorted(), memberCount: members.count, seenInTraining: false, signaturesKnown: false)
        }
        let query = thumbnail.map(TrainingSignatures.Query.init)
        let unseen = members.filter { m in
            guard let s = m.signatures, let query else { return true }
            return !s.contains(query)
        }.map(\.id)
        if unseen.isEmpty {
            return Membership(used: ids.sorted(), memberCount: members.count, seenInTraining: true, signaturesKnown: true)
        }
        return Membership(used: unseen.sorted(), memberCount: members.count, seenInTraining: false, signaturesKnown: true)
    }
}

/// Runs a `ModelEnsemble` for the runner and the commands: the mean probabilities, attention and Grad-CAM of the
/// members a case's `Membership` selects. Not thread-safe (its classifiers are not).
public final class EnsembleClassifier: CaseClassifier {
    public let ensemble: ModelEnsemble
    public init(_ ensemble: ModelEnsemble) { self.ensemble = ensemble }

    public func replica() -> CaseClassifier? { EnsembleClassifier(ensemble.replica()) }

    public var inferenceSpec: InferenceSpec {
        var spec = ensemble.members[0].classifier.inferenceSpec
        spec.weightsID = ensemble.ensembleID
        if let info = ensemble.localisers.first?.localiser.info {
            spec.localiser = StageInput(width: info.inputSize[1], height: info.inputSize[0], mean: info.mean, std: info.std)
        }
        return spec
    }

    /// The whole-image classification, then the localisers of the folds it used (`ModelEnsemble.localisers(for:)`),
    /// their maps averaged and read as boxes; then, with crop members, the crop around the top box (the whole image
    /// when none was found) classified by the crop members of those folds, and the two probabilities averaged.
    /// The whole-image maps stay the whole-image classifiers'; the crop classifiers' maps come in `crop`.
    public func runHeldOut(_ input: PreparedInput, maps: CAMRequest) -> Prediction {
        var prediction = runHeldOut(input: input.tensor, thumbnail: input.thumbnail, maps: maps)
        if let tensor = input.localiserTensor, !ensemble.localisers.isEmpty {
            let outputs = ensemble.localisers(for: prediction.membership).map { $0.localiser.run(input: tensor) }
            prediction.detections = LocaliserMaps.mean(outputs)?.detections() ?? []
        }
        let croppers = ensemble.cropMembers(for: prediction.membership)
        if let image = input.image, let first = croppers.first?.classifier.info, let settings = first.crop {
            let rule = CropRule(pad: settings.pad, minSide: settings.minSide)
            let crop = rule.cut(image, around: prediction.topDetection?.box)
            let tensor = ModelInput.tensor(from: crop.pixels, width: first.inputSize[1], height: first.inputSize[0],
                                           mean: first.mean, std: first.std)
            let cropPrediction = mean(of: croppers, input: tensor, maps: maps)
            let cropProbabilities = cropPrediction.probabilities
            prediction.crop = CropView(region: crop.region, maps: cropPrediction.maps)
            let fused = zip(prediction.probabilities, cropProbabilities).map { ($0 + $1) / 2 }
            prediction.probabilities = fused
            prediction.logits = fused.map { log(max($0, 1e-30)) }
        }
        return prediction
    }

    /// Every member (no membership check).
    public func run(input: [Float], maps: CAMRequest) -> Prediction {
        mean(of: ensemble.members, input: input, maps: maps)
    }

    public func runHeldOut(input: [Float], thumbnail: Thumbnail?, maps: CAMRequest) -> Prediction {
        run(input: input, members: ensemble.membership(of: thumbnail), maps: maps)
    }

    public func run(input: [Float], members membership: Membership) -> Prediction {
        run(input: input, members: membership, maps: .none)
    }

    /// The mean of the members `membership` names, carrying that membership.
    private func run(input: [Float], members membership: Membership, maps: CAMRequest) -> Prediction {
        var prediction = mean(of: ensemble.members.filter { membership.used.contains($0.id) }, input: input, maps: maps)
        prediction.membership = membership
        return prediction
    }

    /// The members' mean: probabilities and maps averaged; logits are log(mean p), so softmax(logits) is the mean.
    func mean(of members: [ModelEnsemble.Member], input: [Float], maps: CAMRequest) -> Prediction {
        if members.count == 1 { return members[0].classifier.run(input: input, maps: maps) }
        let outputs: [Prediction]
        let first = members[0].classifier
        if members.allSatisfy({ $0.classifier.sharesBackbone(with: first) }) {
            // One backbone for all (the crop probes): its features once, then each member's head.
            let h = first.info.inputSize[0], w = first.info.inputSize[1]
            let features = first.backboneChannelsLast(Tensor(shape: [1, 3, h, w], values: input))
            outputs = members.map { $0.classifier.head.forward(channelsLast: features, maps: maps) }
        } else {
            outputs = members.map { $0.classifier.run(input: input, maps: maps) }
        }
        let k = Float(outputs.count)
        func meanMap(_ maps: [FeatureMap]) -> FeatureMap {
            var v = [Float](repeating: 0, count: maps[0].values.count)
            for m in maps { for i in v.indices { v[i] += m.values[i] / k } }
            return FeatureMap(width: maps[0].width, height: maps[0].height, values: v)
        }
        var p = [Float](repeating: 0, count: outputs[0].probabilities.count)
        for o in outputs { for i in p.indices { p[i] += o.probabilities[i] / k } }
        var mean = Prediction(probabilities: p, attention: meanMap(outputs.map(\.attention)), gradcam: nil)
        for method in CAMMethod.all {
            let maps = outputs.compactMap { $0.map(method) }
            if maps.count == outputs.count { mean.maps[method.id] = meanMap(maps) }
        }
        return mean
    }
}
