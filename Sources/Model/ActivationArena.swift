import Engine

/// The activation buffers and scratch of a forward pass, shared by the classifiers that run one after another on
/// one thread (the members of a fold ensemble): K members then cost one set of buffers, not K, and each member's
/// forward finds them warm in cache. Grows to the largest need and stays.
final class ActivationArena {
    private(set) var buffers: [Tensor] = []
    let workspace = Workspace()

    /// One tensor per entry of `capacities`, each of at least that many floats (a buffer smaller than asked is
    /// replaced; the others are kept, so models of several input sizes share the largest of each).
    func buffers(capacities: [Int]) -> [Tensor] {
        if buffers.count != capacities.count {
            buffers = capacities.map { Tensor(shape: [0], capacity: $0, centred: true) }
        }
        for (i, capacity) in capacities.enumerated() where buffers[i].capacity < capacity {
            buffers[i] = Tensor(shape: [0], capacity: capacity, centred: true)
        }
        return buffers
    }
}
