/// Which boxes the image pane draws (`b` cycles them): the label file's boxes, the localiser's box, both, or none.
public enum BoxLayers: String, CaseIterable, Sendable {
    case both, none, labels, model

    public var showsLabels: Bool { self == .both || self == .labels }
    public var showsModel: Bool { self == .both || self == .model }

    /// The next state: both → none → labels → model → both. In a blind read the label boxes are part of the hidden
    /// label, so only the model's box and none alternate.
    public func next(labelsAllowed: Bool) -> BoxLayers {
        guard labelsAllowed else { return showsModel ? .none : .model }
        switch self {
        case .both: return .none
        case .none: return .labels
        case .labels: return .model
        case .model: return .both
        }
    }

    public var description: String {
        switch self {
        case .both: return "label boxes and the model's box"
        case .none: return "no boxes"
        case .labels: return "label boxes only"
        case .model: return "the model's box only"
        }
    }
}
