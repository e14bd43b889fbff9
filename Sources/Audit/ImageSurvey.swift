import Datasets
import Foundation
import Imaging
import Model

/// Reports progress: a stage name, items done, items in total. Called from worker threads.
public typealias ProgressHandler = @Sendable (_ stage: String, _ done: Int, _ total: Int) -> Void

/// Every image of a set of cases decoded once, in parallel: its content hash, its thumbnail, or why it failed.
public struct ImageSurvey: Sendable {
    public let cases: [DatasetCase]
    public let hashes: [String?]
    public let thumbnails: [Thumbnail?]
    /// Decode error per case (nil when it decoded).
    public let errors: [String?]
    public let index: NearDuplicateIndex

    public init(cases: [DatasetCase], progress: ProgressHandler? = nil) {
        let n = cases.count
        let results = ConcurrentResults<(String?, Thumbnail?, String?)>(count: n, initial: (nil, nil, nil))
        let counter = ConcurrentCounter()
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let path = cases[i].imagePath
            var hash: String?, thumb: Thumbnail?, failure: String?
            if let data = try? ImageDecoder.readFile(path) {
                hash = ContentDigest.sha256Hex(data)
                do { thumb = Thumbnail(try ImageDecoder.decode(data: data, name: cases[i].relativePath, file: path)) } catch {
                    let text = "\(error)"
                    failure = text.split(separator: "\n").first.map(String.init) ?? "cannot decode"
                }
            } else {
                failure = "cannot read file"
            }
            results.set(i, (hash, thumb, failure))
            progress?("decoding", counter.increment(), n)
        }
        let all = results.values
        self.cases = cases
        hashes = all.map(\.0); thumbnails = all.map(\.1); errors = all.map(\.2)
        index = NearDuplicateIndex(thumbnails: thumbnails)
    }

    /// Best twin of each query in `pool`, computed in parallel.
    public func bestTwins(queries: [Int], pool: [Int], stage: String = "matching", progress: ProgressHandler? = nil) -> [(index: Int, similarity: Float)?] {
        let results = ConcurrentResults<(index: Int, similarity: Float)?>(count: queries.count, initial: nil)
        let counter = ConcurrentCounter()
        DispatchQueue.concurrentPerform(iterations: queries.count) { k in
            results.set(k, index.bestTwin(of: queries[k], in: pool))
            progress?(stage, counter.increment(), queries.count)
        }
        return results.values
    }

    /// Near-duplicate edges among `pool` (each image against its top candidates), score ≥ threshold.
    public func nearDuplicateEdges(pool: [Int], threshold: Float = NearDuplicateIndex.threshold,
                                   progress: ProgressHandler? = nil) -> [(Int, Int, Float)] {
        let results = ConcurrentResults<[(Int, Int, Float)]>(count: pool.count, initial: [])
        let counter = ConcurrentCounter()
        DispatchQueue.concurrentPerform(iterations: pool.count) { k in
            let q = pool[k]
            results.set(k, index.matches(of: q, in: pool).filter { $0.similarity >= threshold }.map { (q, $0.index, $0.similarity) })
            progress?("grouping", counter.increment(), pool.count)
        }
        return results.values.flatMap { $0 }
    }
}

/// Results written by index from concurrent workers.
final class ConcurrentResults<T>: @unchecked Sendable {
    private var storage: [T]
    private let lock = NSLock()
    init(count: Int, initial: T) { storage = Array(repeating: initial, count: count) }
    func set(_ i: Int, _ value: T) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return storage }
}

final class ConcurrentCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
