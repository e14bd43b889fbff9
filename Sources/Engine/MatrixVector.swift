/// Matrix-vector products split over the engine's threads. A product reads every element of the matrix once
/// (the head's 1280×512 fc1 is 2.6 MB), so each core reading its own part is what makes it faster: the output rows
/// for y = A·x, the output columns for y = Aᵀ·x.
public enum MatrixVector {
    /// The fewest elements worth a thread: below about 64 K, waking the other core costs more than it saves.
    static let elementsPerThread = 65_536

    /// y[m] = A[m×n]·x, or y[n] = Aᵀ·x when `transposed`; A row-major.
    public static func multiply(transposed: Bool = false, m: Int, n: Int, a: UnsafePointer<Float>,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if transposed {
            Parallel.forRanges(n, minPerThread: max(1, elementsPerThread / max(m, 1))) { r in
                BLAS.gemv(transposed: true, m: m, n: r.count, a: a + r.lowerBound, lda: n, x: x, y: y + r.lowerBound)
            }
        } else {
            Parallel.forRanges(m, minPerThread: max(1, elementsPerThread / max(n, 1))) { r in
                BLAS.gemv(m: r.count, n: n, a: a + r.lowerBound * n, x: x, y: y + r.lowerBound)
            }
        }
    }
}
