import Foundation
import Imaging

/// Renders (and sixel-encodes) what the reviewer is likely to ask for next, on a background queue, while they
/// look at the current view: the view `g` would show (`compose`, one job at a time, at once), and, once they have
/// looked for a moment, the next case in the same view and the next zoom step (`composeIfStill`, one slot each).
/// The view just left is kept too (`keep`): `=` after `+`, or `-`, goes back to it. The key then only writes
/// bytes that are ready.
///
/// Bounded: at most `capacity` results and `byteLimit` bytes of pixels and sixel (the oldest go first); a result
/// is handed over once. A case change needs no cancelling: every slot's newer request supersedes the waiting
/// one before it starts, and results are keyed by case and view, so a stale one is never shown.
final class ViewPrecomposer: @unchecked Sendable {
    /// A rendered view: its sixel, or where it has none (half blocks, or not encoded yet) its pixels. A frame with
    /// a sixel needs only its size: holding its pixels too put ~2 MB beside each one's 1–3 MB of sixel, and the
    /// review process peaked about 12 MB higher for it (250 against 237–239 MB with the shipped pipeline).
    struct Composed {
        let pixels: RGBImage?
        let width: Int, height: Int
        let note: String?
        let sixel: [UInt8]?
        var bytes: Int { (pixels?.pixels.count ?? 0) + (sixel?.count ?? 0) }

        init(rendered: RGBImage, note: String?, sixel: [UInt8]?) {
            pixels = sixel == nil ? rendered : nil
            width = rendered.width; height = rendered.height
            self.note = note; self.sixel = sixel
        }
    }

    /// What waits a moment before it is composed, one request per slot (a newer one replaces the waiting one).
    enum Slot { case nextCase, zoom }

    private let lock = NSLock()
    private var ready: [String: Composed] = [:]
    private var order: [String] = []
    private var inFlight: String?
    private let queue = DispatchQueue(label: "fracview.precompose", qos: .utility)
    /// Six frames: the `g` view, the next case, the next zoom step, the view left, and room for the one composed
    /// while the last is taken. A full-screen colour frame is ~1–3 MB of sixel (~2 MB of pixels without one).
    let capacity: Int
    let byteLimit: Int
    private var laterRequest: [Slot: Int] = [:]  // each slot's latest request; an older one that fires is dropped
    private var laterKey: [Slot: String] = [:]   // what that request composes, while it waits or runs

    init(capacity: Int = 6, byteLimit: Int = 48 << 20) {
        self.capacity = capacity; self.byteLimit = byteLimit
    }

    /// Bytes held now (pixels and sixel), for the tests and the docs' figure.
    var heldBytes: Int { lock.lock(); defer { lock.unlock() }; return ready.values.reduce(0) { $0 + $1.bytes } }
    var heldCount: Int { lock.lock(); defer { lock.unlock() }; return ready.count }

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
    func composeIfStill(_ slot: Slot = .nextCase, key: String, after delay: TimeInterval, sixel: Bool,
                        render: @escaping @Sendable () -> (RGBImage, String?)?) {
        lock.lock()
        if ready[key] != nil || laterKey[slot] == key { lock.unlock(); return }
        let request = (laterRequest[slot] ?? 0) + 1
        laterRequest[slot] = request
        laterKey[slot] = key
        lock.unlock()
        queue.asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self else { return }
            self.lock.lock()
            let current = self.laterRequest[slot] == request
            self.lock.unlock()
            guard current else { return }
            if let composed = Self.composed(render(), sixel: sixel) { self.store(key, composed) }
            // Stored first, so that a redraw in between finds the result rather than asking again.
            self.lock.lock()
            if self.laterRequest[slot] == request { self.laterKey[slot] = nil }
            self.lock.unlock()
        }
    }

    /// Keeps a view that was on screen and is being left: the reviewer may come straight back to it.
    func keep(_ key: String, _ composed: Composed) { store(key, composed) }

    private static func composed(_ result: (RGBImage, String?)?, sixel: Bool) -> Composed? {
        result.map { Composed(rendered: $0.0, note: $0.1, sixel: sixel ? SixelEncoder.encode($0.0) : nil) }
    }

    private func store(_ key: String, _ composed: Composed) {
        lock.lock(); defer { lock.unlock() }
        ready[key] = composed
        order.removeAll { $0 == key }
        order.append(key)
        var bytes = ready.values.reduce(0) { $0 + $1.bytes }
        while order.count > capacity || (bytes > byteLimit && !order.isEmpty) {
            bytes -= ready.removeValue(forKey: order.removeFirst())?.bytes ?? 0
        }
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
