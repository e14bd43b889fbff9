import Foundation
import Inference

/// The screen's view of the store work's InferenceRunner (background inference with the prediction cache).
public final class RunnerPredictionSource: PredictionSource {
    public let runner: InferenceRunner
    public init(runner: InferenceRunner) { self.runner = runner }
    public var weightsID: String { runner.spec.weightsID }
    public var hasModel: Bool { true }
    public func state(at index: Int) -> PredictionState { runner.state(at: index) }
    public func prioritize(index: Int) { runner.prioritize(index: index) }
    public var progress: (done: Int, total: Int) { runner.progress }
    public func start() { runner.start() }
    public func stop() { runner.stop() }
}
