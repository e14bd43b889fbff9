import Foundation
import Imaging

/// Renders (and sixel-encodes) what the reviewer is likely to ask for next, on a background queue, while they
/// look at the current view, so that the key only writes bytes that are ready:
/// - `composeViews`: the current case's other views (each view mode `g` reaches, the next zoom step), one job at a
///   time in the order given; the moment the case changes, the jobs still queued for the old case are dropped and a
///   job running for it is discarded when it ends;
/// - `composeIfStill`: the next case in the same view, once the reviewer has looked at this one for a moment.
/// What is kept is bounded in frames and in bytes (`capacity`, `byteLimit`), the least recently composed first out.
final class ViewPrecomposer: @unchecked Sendable {
    struct Composed {
        let pixels: RGBImage
        let note: String?
        let sixel: [UInt8]?
        /// What it holds in memory: the pixels and the sixel bytes.
        var bytes: Int { pixels.pixels.count + (sixel?.count ?? 0) }
    }
    typealias Render = @Sendable () -> (RGBImage, String?)?

    private let lock = NSLock()
    private var ready: [String: Composed] = [:]
    private var order: [String] = []
    private var inFlight: String?
    private let queue = DispatchQueue(label: "fracview.precompose", qos: .utility)
    /// At most this many frames…
    let capacity: Int
    /// …and this many bytes (a 1400×900 colour frame is 3.8 MB of pixels plus up to a few MB of sixel).
    let byteLimit: Int
    private var laterRequest = 0  // the latest `composeIfStill` request; an older one that fires is dropped
    private var laterKey: String?  // what that request composes, while it waits or runs
    /// The case whose views are queued, and its queue.
    private var viewsCase: Int?
    private var viewJobs: [(key: String, sixel: Bool, render: Render)] = []
    /// Grows on every case change: a job that ends under an older generation is dropped.
    private var generation = 0
    /// Renders run so far (the tests' check that a cancelled job never runs).
    private(set) var renders = 0

    init(capacity: Int = 6, byteLimit: Int = 48 << 20) {
        self.capacity = max(1, capacity)
        self.byteLimit = byteLimit
    }

    /// A result for `key`, if one was composed (it is handed over once).
    func take(_ key: String) -> Composed? {
        lock.lock(); defer { lock.unlock() }
        guard let hit = ready.removeValue(forKey: key) else { return nil }
        order.removeAll { $0 == key }
        return hit
    }

    /// Frames and bytes held now.
    var held: (frames: Int, bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (ready.count, ready.values.reduce(0) { $0 + $1.bytes })
    }

    /// Whether `key` is ready (for tests).
    func isReady(_ key: String) -> Bool { lock.lock(); defer { lock.unlock() }; return ready[key] != nil }

    /// Queues the views of case `caseIndex` not composed yet, in order. A different case drops whatever is queued
    /// for the previous one.
    func composeViews(forCase caseIndex: Int, _ jobs: [(key: String, sixel: Bool, render: Render)]) {
        lock.lock()
        if viewsCase != caseIndex {
            viewsCase = caseIndex
            viewJobs = []
            generation += 1
        }
        for job in jobs where ready[job.key] == nil && inFlight != job.key && !viewJobs.contains(where: { $0.key == job.key }) {
            viewJobs.append(job)
        }
        lock.unlock()
        drain()
    }

    /// Starts the next queued view unless one is running.
    private func drain() {
        lock.lock()
        guard inFlight == nil, !viewJobs.isEmpty else { lock.unlock(); return }
        let job = viewJobs.removeFirst()
        inFlight = job.key
        let started = generation
        lock.unlock()
        queue.async { [weak self] in
            guard let self else { return }
            self.lock.lock(); self.renders += 1; self.lock.unlock()
            let composed = Self.composed(job.render(), sixel: job.sixel)
            self.lock.lock()
            self.inFlight = nil
            let current = self.generation == started
            self.lock.unlock()
            // The case changed while it ran: nobody will ask for it.
            if current, let composed { self.store(job.key, composed) }
            self.drain()
        }
    }

    /// Composes `key` after `delay` seconds, unless another key's `composeIfStill` came in meanwhile. A reviewer
    /// who looks at a case for a moment gets its successor ready; one who holds a key does not queue work that is
    /// stale before it starts, which would slow the keys it meant to speed up. Asking again for the key already
    /// waiting (a redraw of the same screen: the runner's progress, another reader's decision) keeps its wait.
    func composeIfStill(key: String, after delay: TimeInterval, sixel: Bool, render: @escaping Render) {
        lock.lock()
        if ready[key] != nil || laterKey == key { lock.unlock(); return }
        laterRequest += 1
        laterKey = key
        let request = laterRequest
        lock.unlock()
        queue.asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self else { return }
            self.lock.lock()
            let current = self.laterRequest == request
            if current { self.renders += 1 }
            self.lock.unlock()
            guard current else { return }
            if let composed = Self.composed(render(), sixel: sixel) { self.store(key, composed) }
            // Stored first, so that a redraw in between finds the result rather than asking again.
            self.lock.lock()
            if self.laterRequest == request { self.laterKey = nil }
            self.lock.unlock()
        }
    }

    private static func composed(_ result: (RGBImage, String?)?, sixel: Bool) -> Composed? {
        result.map { Composed(pixels: $0.0, note: $0.1, sixel: sixel ? SixelEncoder.encode($0.0) : nil) }
    }

    private func store(_ key: String, _ composed: Composed) {
        lock.lock(); defer { lock.unlock() }
        guard composed.bytes <= byteLimit else { return }
        ready[key] = composed
        order.removeAll { $0 == key }
        order.append(key)
        var bytes = ready.values.reduce(0) { $0 + $1.bytes }
        while order.count > capacity || bytes > byteLimit {
            let oldest = order.removeFirst()
            bytes -= ready.removeValue(forKey: oldest)?.bytes ?? 0
        }
    }
}
