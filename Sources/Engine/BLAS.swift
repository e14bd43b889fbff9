import COpenBLAS

/// The few OpenBLAS entry points the engine uses, with Swift-friendly signatures.
public enum BLAS {
    /// C[m×n] = alpha·A[m×k]·B[k×n] + beta·C (row-major, no transposes; leading dimensions are the row lengths).
    @inlinable
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(k), b, Int32(n), beta, c, Int32(n))
    }

    /// C[m×n] = A[m×k]·B[n×k]ᵀ + beta·C: a linear layer over a batch of rows (B is the weight, out × in).
    @inlinable
    public static func gemmTransB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                  c: UnsafeMutablePointer<Float>, beta: Float = 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(k), beta, c, Int32(n))
    }

    /// y[m] = A[m×n]·x (transposed: y[n] = Aᵀ·x) + beta·y, on the calling thread (`MatrixVector` splits it over
    /// the cores). `lda`: the row stride of `a` (n unless `a` is a block of columns of a wider matrix).
    @inlinable
    public static func gemv(transposed: Bool = false, m: Int, n: Int, a: UnsafePointer<Float>, lda: Int? = nil,
                            x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, beta: Float = 0) {
        cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                    1, a, Int32(lda ?? n), x, 1, beta, y, 1)
    }

    /// The eigenvector of the largest eigenvalue of a symmetric n×n matrix (row-major; LAPACK's ssyev, which OpenBLAS
    /// carries), or nil if LAPACK reports a failure. Its sign is LAPACK's: callers that need one must fix it.
    public static func topEigenvector(of matrix: [Float], n: Int) -> [Float]? {
        guard n > 0, matrix.count == n * n else { return nil }
        var a = matrix, w = [Float](repeating: 0, count: n)
        var size = Int32(n), info: Int32 = 0, query: Float = 0, lwork: Int32 = -1
        ssyev_("V", "U", &size, &a, &size, &w, &query, &lwork, &info)  // workspace query
        guard info == 0 else { return nil }
        lwork = max(1, Int32(query))
        var work = [Float](repeating: 0, count: Int(lwork))
        ssyev_("V", "U", &size, &a, &size, &w, &work, &lwork, &info)
        guard info == 0 else { return nil }
        // Eigenvalues come in ascending order; eigenvector j is column j of the column-major result, which is
        // stored contiguously.
        return Array(a[(n - 1) * n..<n * n])
    }

    /// Threads OpenBLAS uses (OPENBLAS_NUM_THREADS or the core count).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS picked (or was told by OPENBLAS_CORETYPE), e.g. "Haswell".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
