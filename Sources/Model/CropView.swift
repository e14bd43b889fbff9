import Basics

/// What the crop classifiers saw: where their crop lies on the image (a normalised square; the whole image when the
/// localiser found nothing) and their CAM maps over it, by `CAMMethod.id`. The screen draws these maps in that
/// square, so that the map and the model's box agree in place.
public struct CropView: Sendable, Equatable {
    public var region: ImageBox
    public var maps: [String: FeatureMap]
    public init(region: ImageBox, maps: [String: FeatureMap]) { self.region = region; self.maps = maps }
}
