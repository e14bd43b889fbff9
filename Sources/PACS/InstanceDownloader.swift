import Foundation
import Imaging

/// Fetches a review's instances in the background, a few at a time, into the cache: the reviewer's case and the
/// next ones first (`prioritize`), then onwards in case order. `wait` gives one instance's bytes, moving it to the
/// front if it is still to come. Instances already in the cache cost no request.
public final class InstanceDownloader: @unchecked Sendable {
    public enum State: Equatable { case pending, fetching, ready, failed(String) }

    private let client: DICOMwebClient
    private let cache: InstanceCache
    private let instances: [InstanceSummary]
    private let parallel: Int
    private let condition = NSCondition()
    private var states: [State]
    private var priority: [Int] = []
    private var cursor = 0
    private var started = false
    private var stopped = false
    private var requests = 0

    /// `parallel`: downloads at once (4 is gentle on a PACS and keeps a link busy).
    public init(client: DICOMwebClient, cache: InstanceCache, instances: [InstanceSummary], parallel: Int = 4) {
        self.client = client
        self.cache = cache
        self.instances = instances
        self.parallel = max(1, min(parallel, 16))
        self.states = Array(repeating: .pending, count: instances.count)
    }

    /// (ready or failed, total, failed).
    public var progress: (done: Int, total: Int, failed: Int) {
        condition.lock(); defer { condition.unlock() }
        let failed = states.filter { if case .failed = $0 { return true }; return false }.count
        return (states.filter { $0 == .ready }.count + failed, states.count, failed)
    }

    /// How many WADO-RS requests were made (the tests' check that a cached study needs none).
    public var requestCount: Int { condition.lock(); defer { condition.unlock() }; return requests }

    public func state(_ index: Int) -> State {
        condition.lock(); defer { condition.unlock() }
        return states.indices.contains(index) ? states[index] : .failed("no such case")
    }

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        for n in 0..<parallel {
            let thread = Thread { [self] in self.work() }
            thread.name = "fracview-pacs-\(n)"
            thread.start()
        }
    }

    /// Lets the downloads in flight finish; starts no new one.
    public func stop() {
        condition.lock(); stopped = true; condition.broadcast(); condition.unlock()
    }

    /// The reviewer is at `index`: it and the next three come first, then onwards from there.
    public func prioritize(_ index: Int) {
        condition.lock(); defer { condition.unlock() }
        guard states.indices.contains(index) else { return }
        priority = (index...(index + 3)).filter { states.indices.contains($0) }
        cursor = index
        condition.broadcast()
    }

    /// The instance's bytes and cached file, waiting for its download (started first if it was still queued).
    public func wait(_ index: Int) throws -> (data: Data, file: String) {
        condition.lock()
        guard states.indices.contains(index) else { condition.unlock(); throw PACSError("no such case") }
        if states[index] == .pending { priority.insert(index, at: 0); condition.broadcast() }
        if !started { condition.unlock(); start(); condition.lock() }
        while true {
            switch states[index] {
            case .ready:
                condition.unlock()
                // Checked against its hash again: the file may have changed since it was fetched.
                if let hit = try cache.load(instances[index].sop) { return hit }
                condition.lock()
                states[index] = .pending
                priority.insert(index, at: 0)
                condition.broadcast()
            case .failed(let reason):
                condition.unlock()
                throw PACSError(reason)
            case .pending, .fetching:
                condition.wait()
            }
        }
    }

    private func next() -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !stopped {
            while let first = priority.first {
                priority.removeFirst()
                if states[first] == .pending { states[first] = .fetching; return first }
            }
            let n = states.count
            for step in 0..<n {
                let i = (cursor + step) % n
                if states[i] == .pending { states[i] = .fetching; return i }
            }
            condition.wait()   // all fetched or in flight: a changed file may yet put one back
        }
        return nil
    }

    private func work() {
        while let index = next() {
            let instance = instances[index]
            let state: State
            do {
                if (try? cache.load(instance.sop)) != nil {
                    state = .ready
                } else {
                    condition.lock(); requests += 1; condition.unlock()
                    let data = try client.retrieve(instance)
                    _ = try cache.store(data, sop: instance.sop)
                    state = .ready
                }
            } catch {
                state = .failed("\(error)")
            }
            condition.lock()
            states[index] = state
            condition.broadcast()
            condition.unlock()
        }
    }
}
