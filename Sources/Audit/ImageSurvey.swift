import Basics
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
        let results = Locked([(String?, Thumbnail?, String?)](repeating: (nil, nil, nil), count: n))
        let done = Locked(0)
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let path = cases[i].imagePath
            var hash: String?, thumb: Thumbnail?, failure: String?
            if let data = try? ImageDecoder.readFile(path) {
                hash = ContentDigest.sha256Hex(data)
                do { thumb = Thumbnail(try ImageDecoder.decode(data: data, name: cases[i].relativePath)) } catch {
                    let text = "\(error)"
                    failure = text.split(separator: "\n").first.map(String.init) ?? "cannot decode"
                }
            } else {
                failure = "cannot read file"
            }
            let found = (hash, thumb, failure)
            results.withLock { $0[i] = found }
            progress?("decoding", done.withLock { $0 += 1; return $0 }, n)
        }
        let all = results.current
        self.cases = cases
        hashes = all.map(\.0); thumbnails = all.map(\.1); errors = all.map(\.2)
        index = NearDuplicateIndex(thumbnails: thumbnails)
    }

    /// Best twin of each query in `pool`, computed in parallel.
    public func bestTwins(queries: [Int], pool: [Int], stage: String = "matching", progress: ProgressHandler? = nil) -> [(index: Int, similarity: Float)?] {
        let results = Locked([(index: Int, similarity: Float)?](repeating: nil, count: queries.count))
        let done = Locked(0)
        DispatchQueue.concurrentPerform(iterations: queries.count) { k in
            let found = index.bestTwin(of: queries[k], in: pool)
            results.withLock { $0[k] = found }
            progress?(stage, done.withLock { $0 += 1; return $0 }, queries.count)
        }
        return results.current
    }

    /// Near-duplicate edges among `pool` (each image against its top candidates), score ≥ threshold.
    public func nearDuplicateEdges(pool: [Int], threshold: Float = NearDuplicateIndex.threshold,
                                   progress: ProgressHandler? = nil) -> [(Int, Int, Float)] {
        let results = Locked([[(Int, Int, Float)]](repeating: [], count: pool.count))
        let done = Locked(0)
        DispatchQueue.concurrentPerform(iterations: pool.count) { k in
            let q = pool[k]
            let found = index.matches(of: q, in: pool).filter { $0.similarity >= threshold }.map { (q, $0.index, $0.similarity) }
            results.withLock { $0[k] = found }
            progress?("grouping", done.withLock { $0 += 1; return $0 }, pool.count)
        }
        return results.current.flatMap { $0 }
    }
}
