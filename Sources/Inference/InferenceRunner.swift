import Datasets
import Foundation
import Imaging
import Model
import Store

/// Runs the classifier over a split on one background thread, in order, starting wherever the reviewer is:
/// `prioritize(index:)` puts the current case and its neighbours (next, previous) first, then the runner continues
/// forward from there and wraps around. Every result goes through the review database's prediction cache keyed by
/// (SHA-256 of the image bytes, weights id), so reopening a split is instant.
///
/// All public members are thread-safe. `onUpdate` is called on the background thread after each case; a UI that
/// prefers polling reads `generation`, which grows by one per finished case.
public final class InferenceRunner: @unchecked Sendable {
    /// Turns a case's decoded image into the model's normalised CHW input.
    public typealias InputLoader = @Sendable (_ image: RGBImage, _ spec: InferenceSpec) -> PreparedInput

    /// The real pipeline (`PreparedInput.init(image:spec:)`).
    public static let imagingLoader: InputLoader = { image, spec in PreparedInput(image: image, spec: spec) }

    public var imagePaths: [String] { images.paths }
    /// The cases' decoded images, shared with the screen: a case the runner computes is decoded once, for both.
    public let images: CaseImages
    public let spec: InferenceSpec

    private let classifier: CaseClassifier
    /// Model class order → dataset class order; results are always in dataset order (the cache keeps model order).
    public let mapping: ClassMapping?
    private let cache: PredictionCache?
    private let loader: InputLoader
    private let onUpdate: (@Sendable (Int) -> Void)?

    private let condition = NSCondition()
    /// The worker's pthread, so `stop` called on it (from `onUpdate`) does not wait for itself.
    private var worker: pthread_t?
    private var states: [PredictionState]
    private var priority: [Int] = []
    private var cursor = 0
    private var inFlight: Int?
    private var doneCount = 0
    /// `waitUntilFinished` also waits for the last `onUpdate` to return.
    private var callbacksInFlight = 0
    private var generationCount: UInt64 = 0
    private var started = false
    private var running = false
    private var stopRequested = false
    private var lastStoreError: String?

    public init(images: CaseImages, classifier: CaseClassifier, cache: PredictionCache?, mapping: ClassMapping? = nil,
                loader: @escaping InputLoader = InferenceRunner.imagingLoader,
                onUpdate: (@Sendable (Int) -> Void)? = nil) {
        self.images = images
        self.mapping = mapping
        self.classifier = classifier
        self.spec = classifier.inferenceSpec
        self.cache = cache
        self.loader = loader
        self.onUpdate = onUpdate
        self.states = Array(repeating: .pending, count: images.count)
    }

    /// A runner with images of its own (the screen shares them through `images`).
    public convenience init(imagePaths: [String], classifier: CaseClassifier, cache: PredictionCache?,
                            mapping: ClassMapping? = nil,
                            loader: @escaping InputLoader = InferenceRunner.imagingLoader,
                            onUpdate: (@Sendable (Int) -> Void)? = nil) {
        self.init(images: CaseImages(paths: imagePaths), classifier: classifier, cache: cache, mapping: mapping,
                  loader: loader, onUpdate: onUpdate)
    }

    // MARK: Control

    /// Starts the background thread (once). Call `prioritize` before or after.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        running = true
        let thread = Thread { [self] in self.work() }
        thread.name = "fracview-inference"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Asks the thread to stop after the case it is computing, and waits for that (except when called from
    /// `onUpdate`, on the runner's own thread, where waiting would deadlock).
    public func stop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        if !(worker.map { pthread_equal($0, pthread_self()) != 0 } ?? false) {
            while running { condition.wait() }
        }
        condition.unlock()
    }

    /// The reviewer is looking at `index`: compute it, then the next and the previous case, before anything else,
    /// and continue forward from there.
    public func prioritize(index: Int) {
        condition.lock()
        defer { condition.unlock() }
        guard states.indices.contains(index) else { return }
        priority = [index, index + 1, index - 1].filter { states.indices.contains($0) }
        cursor = index
        condition.broadcast()
    }

    /// Waits until every case is finished (or the runner stopped); false on timeout.
    @discardableResult
    public func waitUntilFinished(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while (running && doneCount < states.count) || callbacksInFlight > 0 {
            if !condition.wait(until: deadline) { return doneCount == states.count }
        }
        return doneCount == states.count
    }

    // MARK: State

    public func state(at index: Int) -> PredictionState {
        condition.lock()
        defer { condition.unlock() }
        return states.indices.contains(index) ? states[index] : .pending
    }

    /// Every case's state at one instant (for the confusion matrix).
    public func snapshot() -> [PredictionState] {
        condition.lock()
        defer { condition.unlock() }
        return states
    }

    /// Finished (computed, cached or failed) out of total.
    public var progress: (done: Int, total: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (doneCount, states.count)
    }

    /// Grows by one each time a case finishes.
    public var generation: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generationCount
    }

    public var isFinished: Bool { let p = progress; return p.done == p.total }

    /// The last prediction-cache error (the cache is an optimisation: results are still shown), or nil.
    public var storeError: String? {
        condition.lock()
        defer { condition.unlock() }
        return lastStoreError
    }

    // MARK: Worker

    private func work() {
        condition.lock()
        worker = pthread_self()
        condition.unlock()
        while let index = nextIndex() {
            let state = compute(index: index)
            condition.lock()
            states[index] = state
            inFlight = nil
            doneCount += 1
            generationCount += 1
            callbacksInFlight += 1
            condition.broadcast()
            condition.unlock()
            onUpdate?(index)
            condition.lock()
            callbacksInFlight -= 1
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    /// The next case to compute, or nil when everything is done or a stop was asked for.
    private func nextIndex() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        if stopRequested { return nil }
        while let first = priority.first {
            priority.removeFirst()
            if case .pending = states[first] { inFlight = first; return first }
        }
        let n = states.count
        for step in 0..<n {
            let i = (cursor + step) % n
            if case .pending = states[i] { inFlight = i; cursor = i; return i }
        }
        return nil
    }

    private func compute(index: Int) -> PredictionState {
        let kase = images.source.cases[index]
        let loaded: (data: Data, file: String)
        do {
            // The source's guarded loader (regular file, size cap; a PACS waits for the download).
            loaded = try images.source.bytes(of: index)
        } catch let error as ImageError {
            let missing = error.reason == ImageDecoder.noSuchFile
            return .failed("\(kase.shortName): \(missing ? "file not found" : error.reason)")  // the screen's wording
        } catch {
            return .failed("\(kase.shortName): cannot be read")
        }
        let hash = ContentDigest.sha256Hex(loaded.data)
        if let cache {
            do {
                // A row from before the other CAM methods (Grad-CAM alone) is recomputed once and overwritten. The
                // stages need no check: the weights id hashes every stage's members, so a row is always the whole model's.
                if let cached = try cache.cachedPrediction(imageHash: hash, weightsID: spec.weightsID),
                   CAMMethod.all.allSatisfy({ cached.map($0) != nil }) {
                    return .ready(inDatasetOrder(cached))
                }
            } catch {
                noteStoreError(error)
            }
        }
        let image: RGBImage
        switch images.image(index, loaded: loaded, keepingOutsideFocus: false) {
        case .success(let decoded): image = decoded
        case .failure(let error):
            return .failed(String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " "))
        }
        let input = loader(image, spec)
        let prediction = classifier.runHeldOut(input, maps: .all)
        if let cache {
            do {
                try cache.storePrediction(prediction, imageHash: hash, weightsID: spec.weightsID)
            } catch {
                noteStoreError(error)
            }
        }
        return .ready(inDatasetOrder(prediction))
    }

    /// The cache keeps the model's class order; everything after the runner sees the dataset's.
    private func inDatasetOrder(_ prediction: Prediction) -> Prediction {
        mapping.map { prediction.reordered($0.modelIndex) } ?? prediction
    }

    private func noteStoreError(_ error: Error) {
        condition.lock()
        lastStoreError = String(describing: error)
        condition.unlock()
    }
}
