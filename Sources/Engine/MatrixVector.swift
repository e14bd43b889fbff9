import CEngineKernels

/// Matrix-vector products split over the engine's threads (`CEngineKernels/matrix_vector.c`, compiled per ISA). A
/// product reads every element of the matrix once (the head's 1280×512 fc1 is 2.6 MB, 1.3 MB in half precision),
/// so each core reading its own part is what makes it faster: the output rows for y = A·x, the output columns for
/// y = Aᵀ·x.
public enum MatrixVector {
    /// The fewest elements worth a thread: below about 64 K, waking the other core costs more than it saves.
    static let elementsPerThread = 65_536

    /// y[m] = A[m×n]·x, or y[n] = Aᵀ·x when `transposed`; A row-major.
    public static func multiply(transposed: Bool = false, m: Int, n: Int, a: UnsafePointer<Float>,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        multiply(transposed: transposed, m: m, n: n, matrix: fv_matrix(f32: a, f16: nil), x: x, y: y)
    }

    /// The same on an F32 or half-precision matrix.
    public static func multiply(transposed: Bool = false, m: Int, n: Int, matrix: fv_matrix,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if transposed {
            Parallel.forRanges(n, minPerThread: max(1, elementsPerThread / max(m, 1))) { r in
                fv_gemv_transposed(m, n, matrix, x, y, r.lowerBound, r.upperBound)
            }
        } else {
            Parallel.forRanges(m, minPerThread: max(1, elementsPerThread / max(n, 1))) { r in
                fv_gemv(n, matrix, x, y, r.lowerBound, r.upperBound)
            }
        }
    }
}
