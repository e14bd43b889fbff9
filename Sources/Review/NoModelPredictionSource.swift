import Inference
/// No model: the review still works on labels alone (the header and status line say "no model").
public final class NoModelPredictionSource: PredictionSource {
    private let count: Int
    public init(count: Int) { self.count = count }
    public var weightsID: String { "" }
    public var hasModel: Bool { false }
    public func state(at index: Int) -> PredictionState { .noModel }
    public func prioritize(index: Int) {}
    public var progress: (done: Int, total: Int) { (0, count) }
    public func start() {}
    public func stop() {}
}
