import Foundation
import Imaging

/// Renders (and sixel-encodes) what the reviewer is likely to ask for next, on a background queue, while they
/// look at the current view: the view `g` would show (`compose`, one job at a time), and the next case in the
/// same view (`composeIfStill`, once they have looked for a moment). The key then only writes bytes that are
/// ready. A few results kept.
final class ViewPrecomposer: @unchecked Sendable {
    struct Composed {
        let pixels: RGBImage
        let note: String?
        let sixel: [UInt8]?
    }

    private let lock = NSLock()
    private var ready: [String: Composed] = [:]
    private var order: [String] = []
    private var inFlight: String?
    private let queue = DispatchQueue(label: "fracview.precompose", qos: .utility)
    private let capacity = 4
    private var laterRequest = 0  // the latest `composeIfStill` request; an older one that fires is dropped
    private var laterKey: String?  // what that request composes, while it waits or runs

    /// A result for `key`, if one was composed (it is handed over once).
    func take(_ key: String) -> Composed? {
        lock.lock(); defer { lock.unlock() }
        guard let hit = ready.removeValue(forKey: key) else { return nil }
        order.removeAll { $0 == key }
        return hit
    }

    /// Composes `key` after `delay` seconds, unless another key's `composeIfStill` came in meanwhile. A reviewer
    /// who looks at a case for a moment gets its successor ready; one who holds a key does not queue work that is
    /// stale before it starts, which would slow the keys it meant to speed up. Asking again for the key already
    /// waiting (a redraw of the same screen: the runner's progress, another reader's decision) keeps its wait.
    func composeIfStill(key: String, after delay: TimeInterval, sixel: Bool,
                        render: @escaping @Sendable () -> (RGBImage, String?)?) {
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
        ready[key] = composed
        order.removeAll { $0 == key }
        order.append(key)
        while order.count > capacity { ready.removeValue(forKey: order.removeFirst()) }
    }

    /// Composes `view` of `image` for `key` in the background, unless it is composed or under way already.
    func compose(key: String, sixel: Bool, render: @escaping @Sendable () -> (RGBImage, String?)?) {
        lock.lock()
        let skip = ready[key] != nil || inFlight != nil
        if !skip { inFlight = key }
        lock.unlock()
        if skip { return }
        queue.async { [weak self] in
            let composed = Self.composed(render(), sixel: sixel)
            guard let self else { return }
            self.lock.lock()
            self.inFlight = nil
            self.lock.unlock()
            if let composed { self.store(key, composed) }
        }
    }
}
