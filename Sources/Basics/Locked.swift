import Foundation

/// A value behind a lock: the one wrapper fracview's threads share state through (workers' results and counters,
/// caches filled from more than one thread).
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, holding the lock for its whole duration.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }

    /// A copy of the value as it is now.
    public var current: Value { withLock { $0 } }
}
