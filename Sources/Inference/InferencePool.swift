import Engine
import Foundation

/// Runs a batch of independent cases one per core: each worker thread has its own replica of the classifier
/// (shared weights, own activation buffers) and runs every op of its image alone, so the cores never wait on each
/// other inside a forward pass. On this 2-core machine that gives more images per second than splitting each op
/// over both cores (see docs/engine.md, "Throughput"); latency of a single case is the other way round, which is
/// why the TUI's runner, which serves the case on screen first, keeps splitting ops.
public enum InferencePool {
    /// Workers for `count` cases: one per engine thread, never more than cases (and 1 when the classifier cannot
    /// be replicated: see `map`).
    public static func workerCount(for count: Int) -> Int {
        max(1, min(Parallel.threads, count))
    }

    /// `body(classifier, i)` for every i < count, results in index order. `body` runs on the worker threads (the
    /// calling thread is one of them); `done(i)` is called under a lock after each case, in completion order.
    public static func map<T>(count: Int, classifier: CaseClassifier, workers requested: Int? = nil,
                              done: ((Int) -> Void)? = nil,
                              _ body: (CaseClassifier, Int) -> T) -> [T] {
        var workers = min(requested ?? workerCount(for: count), max(count, 1))
        var classifiers = [classifier]
        while classifiers.count < workers, let r = classifier.replica() { classifiers.append(r) }
        workers = classifiers.count
        if workers == 1 {
            return (0..<count).map { i in
                let r = body(classifier, i)
                done?(i)
                return r
            }
        }
        let lock = NSLock()
        var next = 0
        var results = [T?](repeating: nil, count: count)
        nonisolated(unsafe) let unsafeBody = body
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            Parallel.serially {
                while true {
                    lock.lock()
                    let i = next
                    next += 1
                    lock.unlock()
                    guard i < count else { return }
                    let r = unsafeBody(classifiers[w], i)
                    lock.lock()
                    results[i] = r
                    done?(i)
                    lock.unlock()
                }
            }
        }
        return results.map { $0! }
    }
}
