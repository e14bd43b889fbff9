import Dispatch

/// Splits element-wise and per-channel work (depthwise convs, activations) over the same number of threads
/// OpenBLAS uses for the matrix products, so that the whole forward pass uses the cores it was given.
public enum Parallel {
    /// Worker count; defaults to OpenBLAS's thread count (OPENBLAS_NUM_THREADS or the core count).
    nonisolated(unsafe) public static var threads: Int = max(1, BLAS.threadCount)

    /// Calls `body` on disjoint sub-ranges covering 0..<count, concurrently when worth it.
    /// `minPerThread` is the smallest range worth a thread of its own (in units of `count`).
    @inlinable
    public static func forRanges(_ count: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = min(threads, count / max(minPerThread, 1))
        if t <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: t) { i in
            body((i * count / t)..<((i + 1) * count / t))
        }
    }
}
