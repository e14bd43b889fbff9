import Engine

/// The activation buffers and scratch of a forward pass, shared by the classifiers that run one after another on
/// one thread (the members of a fold ensemble): K members then cost one set of buffers, not K, and each member's
/// forward finds them warm in cache. Grows to the largest need and stays.
final class ActivationArena {
    private(set) var buffers: [Tensor] = []
    let workspace = Workspace()

    /// Four tensors of at least `capacity` floats each.
    func buffers(capacity: Int) -> [Tensor] {
        if (buffers.first?.capacity ?? 0) < capacity {
            buffers = (0..<4).map { _ in Tensor(shape: [0], capacity: capacity) }
        }
        return buffers
    }
}
