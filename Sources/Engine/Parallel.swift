import Dispatch

/// Splits element-wise and per-channel work (depthwise convs, activations) over the same number of threads
/// OpenBLAS uses for the matrix products, so that the whole forward pass uses the cores it was given.
public enum Parallel {
    /// Worker count; defaults to OpenBLAS's thread count (OPENBLAS_NUM_THREADS or the core count).
    nonisolated(unsafe) public static var threads: Int = max(1, BLAS.threadCount)

    /// How many chunks `forChunks`/`forRanges` split `count` items into: at most `threads`, and none smaller than
    /// `minPerThread` items (the smallest range worth a thread of its own).
    @inlinable
    public static func chunkCount(_ count: Int, minPerThread: Int = 1) -> Int {
        max(1, min(threads, count / max(minPerThread, 1)))
    }

    /// Calls `body(chunk, range)` on `chunkCount` disjoint sub-ranges covering 0..<count, concurrently when there
    /// are several; `chunk` indexes per-thread scratch.
    @inlinable
    public static func forChunks(_ count: Int, minPerThread: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        guard count > 0 else { return }
        let t = chunkCount(count, minPerThread: minPerThread)
        if t == 1 { return body(0, 0..<count) }
        DispatchQueue.concurrentPerform(iterations: t) { i in
            body(i, (i * count / t)..<((i + 1) * count / t))
        }
    }

    /// `forChunks` for bodies that need no per-thread scratch.
    @inlinable
    public static func forRanges(_ count: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        forChunks(count, minPerThread: minPerThread) { _, range in body(range) }
    }
}
