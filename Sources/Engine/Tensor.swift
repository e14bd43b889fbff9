/// A dense Float32 tensor in row-major (NCHW for images) order.
///
/// Storage is allocated once with a fixed capacity; `reshape` reuses it, so a forward pass can ping-pong
/// between a few preallocated tensors without allocating per op.
public final class Tensor {
    public private(set) var shape: [Int]
    public let capacity: Int
    /// The elements: the start of the storage, or for a centred tensor wherever `reshape` put them.
    public private(set) var data: UnsafeMutablePointer<Float>
    private let storage: UnsafeMutablePointer<Float>
    /// Whether `reshape` places the elements around the middle of the storage (see `init(shape:capacity:centred:)`).
    public let centred: Bool

    /// A zero-filled tensor; `capacity` (in elements) may exceed the shape's element count.
    ///
    /// A `centred` tensor keeps the middle of its elements at the middle of its storage whatever its shape (to 16
    /// floats): the engine splits every op's rows in halves over two threads, so each core then writes and reads
    /// the same half of the memory from one layer to the next, whatever the layers' sizes, and never takes over
    /// cache lines the other core wrote last (on a 2-vCPU VM that made an op 1.6–1.7× slower). Its contents do not
    /// survive a reshape to another element count.
    public init(shape: [Int], capacity: Int? = nil, centred: Bool = false) {
        let count = Tensor.elementCount(shape)
        let cap = max(capacity ?? count, count, 1)
        self.shape = shape
        self.capacity = cap
        self.centred = centred
        storage = allocateOnCacheLines(cap, of: Float.self)
        storage.initialize(repeating: 0, count: cap)
        data = storage + (centred ? Tensor.centredOffset(count, capacity: cap) : 0)
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == Tensor.elementCount(shape), "Tensor: \(values.count) values for shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(storage).deallocate() }

    /// Where a centred tensor of `count` elements starts: half the spare room, rounded down to 16 floats (64 bytes).
    static func centredOffset(_ count: Int, capacity: Int) -> Int { (capacity - count) / 2 & ~15 }

    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    public var count: Int { Tensor.elementCount(shape) }

    /// Changes the shape in place; the element count must fit the capacity. Contents are not cleared.
    public func reshape(_ newShape: [Int]) {
        let count = Tensor.elementCount(newShape)
        precondition(count <= capacity, "Tensor: shape \(newShape) exceeds capacity \(capacity)")
        shape = newShape
        if centred { data = storage + Tensor.centredOffset(count, capacity: capacity) }
    }

    /// A copy of the contents as an array.
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    /// Dimensions of an NCHW tensor (a 3-D CHW tensor counts as batch 1).
    public var nchw: (n: Int, c: Int, h: Int, w: Int) {
        switch shape.count {
        case 4: return (shape[0], shape[1], shape[2], shape[3])
        case 3: return (1, shape[0], shape[1], shape[2])
        default: preconditionFailure("Tensor: expected an NCHW shape, got \(shape)")
        }
    }
}

/// Scratch memory reused across ops (im2col columns, SE scales, …): grows to the largest request and then stays.
public final class Workspace {
    private var buffer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        buffer = allocateOnCacheLines(self.capacity, of: Float.self)
    }

    deinit { UnsafeMutableRawPointer(buffer).deallocate() }

    /// At least `count` floats of uninitialised scratch, valid until the next call.
    public func scratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            UnsafeMutableRawPointer(buffer).deallocate()
            capacity = count
            buffer = allocateOnCacheLines(count, of: Float.self)
        }
        return buffer
    }
}
