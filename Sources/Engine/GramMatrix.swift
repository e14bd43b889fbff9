import CEngineKernels

/// A·Aᵀ for a small row-major matrix A (rows × columns: EigenCAM's 49 positions × 1280 channels), on the engine's
/// packed GEMM kernels: A's rows packed as the "weights" of a 1×1 conv with `rows` outputs, multiplied by A itself.
/// OpenBLAS's sgemm ran its `OPENBLAS_CORETYPE` kernels here (SSE3 under Prescott, whatever the CPU).
public enum GramMatrix {
    /// The rows × rows matrix of the rows' dot products, row-major.
    public static func of(_ a: UnsafePointer<Float>, rows: Int, columns: Int) -> [Float] {
        guard rows > 0, columns > 0 else { return [] }
        var packed = [Float](repeating: 0, count: fv_packed_size(rows, columns))
        packed.withUnsafeMutableBufferPointer { fv_pack_weights(a, rows, columns, $0.baseAddress!) }
        let zeros = [Float](repeating: 0, count: rows)
        var gram = [Float](repeating: 0, count: rows * rows)
        let panels = (rows + Int(FV_PANEL) - 1) / Int(FV_PANEL)
        packed.withUnsafeBufferPointer { p in
            zeros.withUnsafeBufferPointer { bias in
                gram.withUnsafeMutableBufferPointer { g in
                    fv_gemm_packed(rows, columns, a, columns, fv_panels(f32: p.baseAddress, f16: nil, out_scale: nil), nil,
                                   bias.baseAddress!, Int32(FV_ACT_IDENTITY), nil, g.baseAddress!, rows, 0, rows, 0, panels)
                }
            }
        }
        return gram
    }
}
