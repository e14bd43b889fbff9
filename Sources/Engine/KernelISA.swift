import CEngineKernels

/// Which instruction set the engine's kernels run: what the CPU has, capped by `FRACVIEW_MAX_ISA` (avx2, baseline)
/// for measuring a lower path on a higher machine. `fracview bench` names both, so a figure says what it measured.
public enum KernelISA {
    public static var current: String { name(fv_current_isa()) }
    public static var supported: String { name(fv_supported_isa()) }

    static func name(_ isa: Int32) -> String {
        switch Int(isa) {
        case Int(FV_ISA_AVX512): return "avx512"
        case Int(FV_ISA_AVX2): return "avx2"
        default: return "baseline"
        }
    }
}
