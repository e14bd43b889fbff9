/// A fixed array of plain values starting on a 64-byte cache line, for the packed weights the kernels stream.
///
/// A Swift array's elements start 32 bytes into a 16-byte aligned block, so a packed panel's rows (64 bytes in half
/// precision, 128 in F32) straddled one more line each than they fill, and a depthwise conv's 16-channel tap
/// vectors two lines each. Immutable once filled; `Element` must be a trivial type (Float, UInt16).
public final class LineAlignedBuffer<Element> {
    public let count: Int
    private let base: UnsafeMutablePointer<Element>

    /// `count` elements, zeroed, then written by `fill` (the packing routines write straight into them).
    public init(count: Int, fill: (UnsafeMutableBufferPointer<Element>) -> Void) {
        self.count = count
        base = allocateOnCacheLines(count, of: Element.self)
        UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0,
                                                       count: count * MemoryLayout<Element>.stride)
        fill(UnsafeMutableBufferPointer(start: base, count: count))
    }

    /// None (a conv not packed this way).
    public convenience init() { self.init(count: 0) { _ in } }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    public var isEmpty: Bool { count == 0 }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}

/// `count` uninitialised elements (room for at least one) starting on a 64-byte cache line: what the engine's
/// tensors, scratch and packed weights live in. `allocate(capacity:)` gives malloc's 16-byte alignment (a large
/// block at 16 past a page), and then every 16-float vector the kernels load or store at a multiple of 16 floats
/// straddled two lines: the depthwise convs took 1.2–1.4× the time (C microbenchmark, Intel Xeon). Free with
/// `UnsafeMutableRawPointer(p).deallocate()`.
func allocateOnCacheLines<T>(_ count: Int, of _: T.Type) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        .bindMemory(to: T.self, capacity: max(count, 1))
}
