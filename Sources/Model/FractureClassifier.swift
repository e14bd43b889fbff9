// CONTRACT (owned by the engine work): other modules rely on these signatures. Stub bodies are replaced.
import Foundation

/// A 2-D map at feature resolution (7×7 for B4 at 224), row-major, values in [0, 1].
public struct FeatureMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let values: [Float]
    public init(width: Int, height: Int, values: [Float]) { self.width = width; self.height = height; self.values = values }
}

/// What one forward pass gives.
public struct ClassifierOutput: Sendable {
    public let logits: [Float]
    public let probabilities: [Float]
    public let attention: FeatureMap
    /// Grad-CAM for the predicted class; nil unless asked for.
    public let gradcam: FeatureMap?
    public var predicted: Int { probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) ?? 0 }
    public init(logits: [Float], probabilities: [Float], attention: FeatureMap, gradcam: FeatureMap?) {
        self.logits = logits; self.probabilities = probabilities; self.attention = attention; self.gradcam = gradcam
    }
}

/// The model's description, from the weights file's metadata (defaults are the notebook's).
public struct ModelInfo: Sendable {
    public let architecture: String
    public let classes: [String]
    /// [height, width]
    public let inputSize: [Int]
    public let mean: [Float]
    public let std: [Float]
    /// Every `__metadata__` key as stored (provenance keys included).
    public let metadata: [String: String]
    public let parameterCount: Int
    /// A short stable id of the weights (hex of a SHA-256 prefix of the file), used to key caches and CSV rows.
    public let weightsID: String
    public let path: String
}

/// The notebook's FractureClassifier: EfficientNet features → attention gate → pool → MLP head.
/// Not thread-safe: use one instance per thread.
public final class FractureClassifier {
    public let info: ModelInfo

    /// Loads a `.safetensors` file (see README "Weights format"). Throws an error whose description is one line
    /// naming the first bad tensor or key.
    public init(contentsOf path: String) throws { fatalError("TODO(engine)") }

    /// Runs the model on a CHW Float32 input of size info.inputSize (already normalised).
    public func run(input: [Float], gradcam: Bool) -> ClassifierOutput { fatalError("TODO(engine)") }
}

/// Where the shipped model lives.
public enum DefaultWeights {
    public static let fileName = "fracture-classifier.safetensors"
    /// $FRACVIEW_WEIGHTS, else weights/<fileName> under the working directory or above the executable; nil if none.
    public static func locate() -> String? { fatalError("TODO(engine)") }
    public static let missingMessage =
        "no default model found: pass --weights FILE, set FRACVIEW_WEIGHTS, or run from the fracview checkout (weights/)"
}
