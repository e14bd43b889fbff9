import Basics
import Foundation

/// The model's verdict on one image. One type from the forward pass through the runner, the prediction cache and
/// the screen to the decision the reviewer records.
public struct Prediction: Sendable, Equatable {
    /// An ensemble's, or a cached prediction's, are log(p): softmax gives the probabilities back exactly.
    public var logits: [Float]
    public var probabilities: [Float]
    /// The attention gate's sigmoid map.
    public var attention: FeatureMap
    /// The CAM maps for the predicted class, by `CAMMethod.id`; empty unless asked for.
    public var maps: [String: FeatureMap]
    /// The notebook's Grad-CAM, the first of the maps.
    public var gradcam: FeatureMap? {
        get { maps[CAMMethod.gradCAM.id] }
        set { maps[CAMMethod.gradCAM.id] = newValue }
    }
    public func map(_ method: CAMMethod) -> FeatureMap? { maps[method.id] }
    /// Which members gave it, and whether the image was held out for them.
    public var membership: Membership
    /// The localiser's boxes, best first (`LocaliserMaps.detections`): nil when the model has no localiser, empty
    /// when it found nothing ("no fracture found").
    public var detections: [Detection]?
    /// The top box, if any.
    public var topDetection: Detection? { detections?.first }
    /// The crop classifiers' crop and maps, when the model has a crop stage.
    public var crop: CropView?

    /// The map the screen shows for a method, and the part of the image it covers: the crop classifiers' map in
    /// their crop when there is one, else the whole-image map over the whole image.
    public func shownMap(_ method: CAMMethod) -> (map: FeatureMap, region: ImageBox)? {
        if let crop, let map = crop.maps[method.id] { return (map, crop.region) }
        return map(method).map { ($0, ImageBox(x0: 0, y0: 0, x1: 1, y1: 1)) }
    }

    public init(logits: [Float], probabilities: [Float], attention: FeatureMap, gradcam: FeatureMap?,
                membership: Membership = .untracked) {
        self.logits = logits; self.probabilities = probabilities; self.attention = attention
        self.maps = gradcam.map { [CAMMethod.gradCAM.id: $0] } ?? [:]
        self.membership = membership
    }

    public init(logits: [Float], probabilities: [Float], attention: FeatureMap, maps: [String: FeatureMap],
                membership: Membership = .untracked) {
        self.init(logits: logits, probabilities: probabilities, attention: attention, gradcam: nil, membership: membership)
        self.maps = maps
    }

    /// Stored probabilities, with the logits softmax maps back to them.
    public init(probabilities: [Float], attention: FeatureMap, gradcam: FeatureMap?, membership: Membership = .untracked) {
        self.init(logits: probabilities.map { log(max($0, 1e-30)) }, probabilities: probabilities, attention: attention,
                  gradcam: gradcam, membership: membership)
    }

    public var predicted: Int { argmax(probabilities) }
    public var confidence: Float { probabilities.isEmpty ? 0 : probabilities[predicted] }

    /// The same prediction with its classes in another order: `order[i]` is the index, in this prediction, of the
    /// class that comes i-th. The maps are untouched (the CAM is for the predicted class whatever its index).
    public func reordered(_ order: [Int]) -> Prediction {
        guard order.count == probabilities.count, order.allSatisfy(probabilities.indices.contains) else { return self }
        var p = self
        p.probabilities = order.map { probabilities[$0] }
        p.logits = order.map { logits[$0] }
        return p
    }
}
