import COpenBLAS

/// What the engine still takes from OpenBLAS: LAPACK's symmetric eigensolver (EigenCAM) and the thread and core
/// settings. Every matrix product is the engine's own (packed GEMM, `MatrixVector`): OpenBLAS's run
/// the kernels `OPENBLAS_CORETYPE` names, not the CPU's.
public enum BLAS {
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
