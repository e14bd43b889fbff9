/// A fixed array of plain values starting on a 64-byte cache line, for the packed weights the kernels stream.
///
/// A Swift array's elements start 32 bytes into a 16-byte aligned block, so a packed panel's rows (64 bytes in half
/// precision, 128 in F32) straddled one more line each than they fill, and a depthwise conv's 16-channel tap
/// vectors two lines each. Immutable once made; `Element` must be a trivial type (Float, UInt16).
public final class LineAlignedBuffer<Element> {
    public let count: Int
    private let base: UnsafeMutablePointer<Element>

    /// A copy of `values`.
    public init(_ values: [Element]) {
        count = values.count
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Element>.stride, alignment: 64)
            .bindMemory(to: Element.self, capacity: max(count, 1))
        values.withUnsafeBufferPointer { if let src = $0.baseAddress { base.initialize(from: src, count: count) } }
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    public var isEmpty: Bool { count == 0 }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}
