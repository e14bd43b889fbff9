import Foundation
import Inference

/// The screen's view of background inference (the InferenceRunner, or a fake in tests).
public protocol PredictionSource: AnyObject {
    /// Short id of the weights (empty without a model).
    var weightsID: String { get }
    var hasModel: Bool { get }
    func state(at index: Int) -> PredictionState
    /// Moves a case (and its neighbours) to the front of the queue: the reviewer is looking at it.
    func prioritize(index: Int)
    /// (finished, total) over the whole split.
    var progress: (done: Int, total: Int) { get }
    func start()
    func stop()
}
