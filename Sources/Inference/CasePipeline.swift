import Foundation
import Imaging
import Model

// One case's way through the model, the same for the review screen's runner, `evaluate`, `predict` and `gradcam`:
// decoded image → `PreparedInput` (each stage's normalised input and the thumbnail) → `CaseClassifier.runHeldOut`
// (the localiser stage when the model has one, then the classifier) → `Prediction`.

/// One stage's input: the size it is resized to and its normalisation.
public struct StageInput: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var mean: [Float]
    public var std: [Float]
    public init(width: Int, height: Int, mean: [Float], std: [Float]) {
        self.width = width; self.height = height; self.mean = mean; self.std = std
    }
}

/// What the runner needs to know about a model to prepare its input and key its cache.
public struct InferenceSpec: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var mean: [Float]
    public var std: [Float]
    /// Keys the prediction cache together with the image hash.
    public var weightsID: String
    /// The localiser stage's input; nil for a classifier alone.
    public var localiser: StageInput?
    public init(width: Int, height: Int, mean: [Float], std: [Float], weightsID: String, localiser: StageInput? = nil) {
        self.width = width; self.height = height; self.mean = mean; self.std = std; self.weightsID = weightsID
        self.localiser = localiser
    }
}

/// A case's image prepared once: each stage's normalised input and the thumbnail membership is decided on.
public struct PreparedInput: Sendable {
    public let tensor: [Float]
    public let thumbnail: Thumbnail?
    /// The localiser's input, when the model has a localiser.
    public let localiserTensor: [Float]?
    /// The decoded image, for a stage whose input depends on an earlier stage's output (the crop around the
    /// localiser's box).
    public let image: RGBImage?
    public init(tensor: [Float], thumbnail: Thumbnail? = nil, localiserTensor: [Float]? = nil, image: RGBImage? = nil) {
        self.tensor = tensor; self.thumbnail = thumbnail; self.localiserTensor = localiserTensor; self.image = image
    }

    /// The real preparation: torchvision-style resize (PIL bilinear, antialiased) and normalisation per stage, and
    /// the near-duplicate thumbnail.
    public init(image: RGBImage, spec: InferenceSpec) {
        self.init(tensor: ModelInput.tensor(from: image, width: spec.width, height: spec.height, mean: spec.mean, std: spec.std),
                  thumbnail: Thumbnail(image),
                  localiserTensor: spec.localiser.map {
                      ModelInput.tensor(from: image, width: $0.width, height: $0.height, mean: $0.mean, std: $0.std)
                  },
                  image: spec.localiser == nil ? nil : image)
    }
}

/// A classifier the runner can drive. `FractureClassifier` is one; tests use fakes.
/// The runner calls `run` from its background thread only, so an implementation need not be thread-safe.
public protocol CaseClassifier: AnyObject {
    var inferenceSpec: InferenceSpec { get }
    func run(input: [Float], maps: CAMRequest) -> Prediction
    /// The prediction for a case held out from training where the model can tell (`EnsembleClassifier`), with the
    /// members that gave it in its `membership`. `thumbnail` is the case's near-duplicate thumbnail.
    func runHeldOut(input: [Float], thumbnail: Thumbnail?, maps: CAMRequest) -> Prediction
    /// The whole pipeline on a prepared case: the localiser stage where there is one, then the classifier; with the
    /// CAM maps when `maps` is set.
    func runHeldOut(_ input: PreparedInput, maps: CAMRequest) -> Prediction
    /// The same members as an earlier prediction's `membership` on another input (a perturbed copy of the case:
    /// the deletion test), without looking the case up in the training signatures again.
    func run(input: [Float], members: Membership) -> Prediction
    /// Another classifier on the same weights that can run on another thread at the same time, or nil if this one
    /// cannot be replicated (then work stays on one thread).
    func replica() -> CaseClassifier?
}

extension CaseClassifier {
    /// A single model with no training record.
    public func runHeldOut(input: [Float], thumbnail: Thumbnail?, maps: CAMRequest) -> Prediction {
        run(input: input, maps: maps)
    }
    /// A classifier with no localiser stage.
    public func runHeldOut(_ input: PreparedInput, maps: CAMRequest) -> Prediction {
        runHeldOut(input: input.tensor, thumbnail: input.thumbnail, maps: maps)
    }
    public func replica() -> CaseClassifier? { nil }
    public func run(input: [Float], members: Membership) -> Prediction { run(input: input, maps: .none) }
}

extension FractureClassifier: CaseClassifier {
    public func replica() -> CaseClassifier? { replica() as FractureClassifier }
    public var inferenceSpec: InferenceSpec {
        InferenceSpec(width: info.inputSize.count > 1 ? info.inputSize[1] : 224,
                      height: info.inputSize.first ?? 224, mean: info.mean, std: info.std, weightsID: info.weightsID)
    }
}
