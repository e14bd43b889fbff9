import Foundation
import Imaging

/// Renders (and sixel-encodes) the view `g` would show next, on a background queue, while the reviewer looks at
/// the current one: the toggle then only writes bytes that are ready. One job at a time; a few results kept.
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

    /// A result for `key`, if one was composed (it is handed over once).
    func take(_ key: String) -> Composed? {
        lock.lock(); defer { lock.unlock() }
        guard let hit = ready.removeValue(forKey: key) else { return nil }
        order.removeAll { $0 == key }
        return hit
    }

    /// Composes `view` of `image` for `key` in the background, unless it is composed or under way already.
    func compose(key: String, sixel: Bool, render: @escaping @Sendable () -> (RGBImage, String?)?) {
        lock.lock()
        let skip = ready[key] != nil || inFlight != nil
        if !skip { inFlight = key }
        lock.unlock()
        if skip { return }
        queue.async { [weak self] in
            let result = render()
            let composed = result.map { Composed(pixels: $0.0, note: $0.1, sixel: sixel ? SixelEncoder.encode($0.0) : nil) }
            guard let self else { return }
            self.lock.lock(); defer { self.lock.unlock() }
            self.inFlight = nil
            guard let composed else { return }
            self.ready[key] = composed
            self.order.append(key)
            while self.order.count > self.capacity { self.ready.removeValue(forKey: self.order.removeFirst()) }
        }
    }
}
