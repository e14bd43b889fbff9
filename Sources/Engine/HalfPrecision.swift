import CEngineKernels

/// Weights kept as IEEE half-precision bit patterns (the 1×1 convs' panels, the head's fc1): only when every value
/// is exactly a half, as an F16 file's are, so the products are the F32 ones from half the memory.
public enum HalfPrecision {
    /// Whether the kernels in use widen halves in hardware (AVX2's F16C, AVX-512), read when weights are packed.
    /// The baseline path widens in software, which made the shipped member's forward 1.6–2× slower: there the
    /// weights stay F32.
    public static var widenedInHardware: Bool { fv_current_isa() >= Int32(FV_ISA_AVX2) }

    /// The half-precision bit patterns of `values`, or nil when one of them is not exactly a half, or is not finite
    /// (the baseline kernels' branch-free widening assumes finite values).
    public static func exactBits(_ values: [Float]) -> [UInt16]? {
        var bits = [UInt16](repeating: 0, count: values.count)
        for (i, v) in values.enumerated() {
            let h = Float16(v)
            guard v.isFinite, Float(h) == v else { return nil }
            bits[i] = h.bitPattern
        }
        return bits
    }
}
