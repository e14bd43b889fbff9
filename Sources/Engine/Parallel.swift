import CEngineKernels

/// Splits the engine's work (GEMM row tiles, depthwise rows, activations) over its worker threads, the C pool in
/// CEngineKernels/thread_pool.c. The matrix products of the backbone are the engine's own kernels, so OpenBLAS
/// (left for small head products) is held to one thread: its idle workers would otherwise spin on the cores the
/// pool needs.
public enum Parallel {
    /// Worker count, OPENBLAS_NUM_THREADS or the core count (what OpenBLAS itself would have used).
    nonisolated(unsafe) public static var threads: Int = {
        let n = max(1, BLAS.threadCount)
        BLAS.setThreadCount(1)
        return n
    }()

    /// How many chunks `forChunks`/`forRanges` split `count` items into: at most `threads`, and none smaller than
    /// `minPerThread` items (the smallest range worth a thread of its own).
    public static func chunkCount(_ count: Int, minPerThread: Int = 1) -> Int {
        max(1, min(threads, count / max(minPerThread, 1)))
    }

    private struct Job {
        let body: (Int, Range<Int>) -> Void
        let count: Int, chunks: Int
    }

    /// Calls `body(chunk, range)` on `chunkCount` disjoint sub-ranges covering 0..<count, concurrently when there
    /// are several; `chunk` indexes per-thread scratch.
    public static func forChunks(_ count: Int, minPerThread: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        guard count > 0 else { return }
        let t = chunkCount(count, minPerThread: minPerThread)
        if t == 1 { return body(0, 0..<count) }
        withoutActuallyEscaping(body) { escapable in
            var job = Job(body: escapable, count: count, chunks: t)
            withUnsafeMutablePointer(to: &job) { p in
                fv_parallel_run(t, Int32(threads), { ctx, i in
                    let job = ctx!.assumingMemoryBound(to: Job.self).pointee
                    let i = Int(i)
                    job.body(i, (i * job.count / job.chunks)..<((i + 1) * job.count / job.chunks))
                }, p)
            }
        }
    }

    /// Runs `body` with every parallel region it starts on this thread alone: for callers that put one image on
    /// each core instead of splitting each op over the cores.
    public static func serially<T>(_ body: () throws -> T) rethrows -> T {
        let previous = fv_set_thread_serial(1)
        defer { _ = fv_set_thread_serial(previous) }
        return try body()
    }

    /// `forChunks` for bodies that need no per-thread scratch.
    public static func forRanges(_ count: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        forChunks(count, minPerThread: minPerThread) { _, range in body(range) }
    }
}
