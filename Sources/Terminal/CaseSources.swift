import Foundation
import Imaging
import Model
import Review

/// The model's result for one case, as the screen needs it.
public struct CasePrediction: Sendable, Equatable {
    public var probabilities: [Float]
    public var attention: FeatureMap?
    public var gradcam: FeatureMap?
    /// Which members gave it, and whether the case is held-out for them.
    public var membership: Membership
    public init(probabilities: [Float], attention: FeatureMap?, gradcam: FeatureMap?, membership: Membership = .untracked) {
        self.probabilities = probabilities; self.attention = attention; self.gradcam = gradcam; self.membership = membership
    }
    public var predicted: Int { argmax(probabilities) }
    public var confidence: Float { probabilities.isEmpty ? 0 : probabilities[predicted] }
}

/// Where a case's prediction stands.
public enum PredictionState: Sendable, Equatable {
    case pending
    case ready(CasePrediction)
    /// The image could not be decoded (or the model failed on it): a one-line reason.
    case failed(String)
    /// No model was loaded.
    case noModel

    public var prediction: CasePrediction? { if case .ready(let p) = self { return p } else { return nil } }
}

/// The screen's view of background inference (the store work's runner, or a fake in tests).
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

/// Writes the reviewed-cases CSV (ReviewCSV in the app; a fake in tests).
public protocol DecisionExporter {
    /// `split`: only that split's decisions; nil for every split.
    func export(reviewer: String, split: String?, to path: String) throws -> Int
}

/// Decoded images, cached and prefetched around the current case so that stepping is instant.
public final class CaseImages: @unchecked Sendable {
    private let paths: [String]
    private let lock = NSLock()
    private var cache: [Int: Result<RGBImage, ImageError>] = [:]
    private var order: [Int] = []
    private let capacity: Int
    private let queue = DispatchQueue(label: "fracview.images", qos: .userInitiated)
    private var inFlight: Set<Int> = []
    /// Called (on a background queue) when a prefetched image becomes available.
    public var onLoaded: (() -> Void)?

    public init(paths: [String], capacity: Int = 24) {
        self.paths = paths
        self.capacity = capacity
    }

    /// The image if decoded already (never blocks); nil while loading.
    public func cached(_ index: Int) -> Result<RGBImage, ImageError>? {
        lock.lock(); defer { lock.unlock() }
        return cache[index]
    }

    /// Decodes synchronously (the current case must show at once).
    public func load(_ index: Int) -> Result<RGBImage, ImageError> {
        if let hit = cached(index) { return hit }
        let result = CaseImages.decode(paths[index])
        store(index, result)
        return result
    }

    /// Decodes the neighbours in the background.
    public func prefetch(around index: Int) {
        for i in [index + 1, index - 1, index + 2] where i >= 0 && i < paths.count {
            lock.lock()
            let skip = cache[i] != nil || inFlight.contains(i)
            if !skip { inFlight.insert(i) }
            lock.unlock()
            if skip { continue }
            let path = paths[i]
            queue.async { [weak self] in
                let result = CaseImages.decode(path)
                self?.store(i, result)
                self?.onLoaded?()
            }
        }
    }

    private func store(_ index: Int, _ result: Result<RGBImage, ImageError>) {
        lock.lock(); defer { lock.unlock() }
        inFlight.remove(index)
        if cache[index] == nil { order.append(index) }
        cache[index] = result
        while order.count > capacity { cache.removeValue(forKey: order.removeFirst()) }
    }

    static func decode(_ path: String) -> Result<RGBImage, ImageError> {
        do { return .success(try ImageDecoder.decode(path: path)) }
        catch let e as ImageError { return .failure(e) }
        catch { return .failure(ImageError(path: path, reason: "\(error)")) }
    }
}
