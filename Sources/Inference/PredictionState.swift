import Model

/// Where a case's prediction stands, from the runner to the screen.
public enum PredictionState: Sendable, Equatable {
    case pending
    case ready(Prediction)
    /// The image could not be read or decoded: a one-line reason for the pane's marker. The case stays reviewable.
    case failed(String)
    /// No model was loaded.
    case noModel

    public var prediction: Prediction? { if case .ready(let p) = self { return p } else { return nil } }
    public var isFinished: Bool { if case .pending = self { return false } else { return true } }
}
