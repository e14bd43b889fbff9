import Foundation
import Imaging
import Model

/// Background inference over a whole split on one worker thread (the classifier is not thread-safe):
/// the case on screen and its neighbours go first, then the rest in order.
public final class ModelPredictionSource: PredictionSource, @unchecked Sendable {
    private let classifier: FractureClassifier
    private let paths: [String]
    private let lock = NSCondition()
    private var states: [PredictionState]
    private var priority: [Int] = []
    private var done = 0
    private var stopping = false
    private var thread: Thread?

    public let weightsID: String
    public var hasModel: Bool { true }

    public init(classifier: FractureClassifier, paths: [String]) {
        self.classifier = classifier
        self.paths = paths
        self.weightsID = classifier.info.weightsID
        states = Array(repeating: .pending, count: paths.count)
    }

    public func state(at index: Int) -> PredictionState {
        lock.lock(); defer { lock.unlock() }
        return index >= 0 && index < states.count ? states[index] : .pending
    }

    public var progress: (done: Int, total: Int) {
        lock.lock(); defer { lock.unlock() }
        return (done, paths.count)
    }

    public func prioritize(index: Int) {
        lock.lock()
        priority = [index, index + 1, index - 1, index + 2].filter { $0 >= 0 && $0 < paths.count }
        lock.signal()
        lock.unlock()
    }

    public func start() {
        guard thread == nil else { return }
        let t = Thread { [weak self] in self?.work() }
        t.stackSize = 16 << 20
        t.qualityOfService = .userInitiated
        thread = t
        t.start()
    }

    public func stop() {
        lock.lock(); stopping = true; lock.signal(); lock.unlock()
    }

    private func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        while !stopping {
            while let i = priority.first {
                priority.removeFirst()
                if case .pending = states[i] { return i }
            }
            if let i = states.firstIndex(where: { if case .pending = $0 { return true } else { return false } }) { return i }
            lock.wait()
        }
        return nil
    }

    private func work() {
        while let index = next() {
            let result = predict(paths[index])
            lock.lock()
            states[index] = result
            done += 1
            lock.unlock()
        }
    }

    private func predict(_ path: String) -> PredictionState {
        do {
            let image = try ImageDecoder.decode(path: path)
            let info = classifier.info
            let input = ModelInput.tensor(from: image, width: info.inputSize[1], height: info.inputSize[0],
                                          mean: info.mean, std: info.std)
            let out = classifier.run(input: input, gradcam: true)
            return .ready(CasePrediction(probabilities: out.probabilities, attention: out.attention, gradcam: out.gradcam))
        } catch {
            return .failed("\(error)")
        }
    }
}

/// No model: the review still works on labels alone.
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
