import CEngineKernels
import Foundation

/// Element-wise activations. `exp` is a polynomial approximation (Cephes expf, relative error ≈ 1e-7) written
/// without calls or branches so that the loops vectorise; libm's expf would dominate the SiLU cost.
public enum Activation: String, Sendable, CaseIterable {
    case identity, relu, relu6, silu, sigmoid

    /// Applies the activation in place to `count` floats.
    @inlinable
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) { apply(x, count: count, bias: 0) }

    /// Adds `bias` then applies the activation, in place (the epilogue of a convolution row). Runs the C kernel
    /// (AVX2+FMA where the CPU has it); its exp is the same polynomial as `fastExp`.
    @inlinable
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int, bias: Float) {
        if self == .identity && bias == 0 { return }
        fv_bias_activation(x, count, bias, kernelCode)
    }

    @usableFromInline var kernelCode: Int32 {
        switch self {
        case .identity: return Int32(FV_ACT_IDENTITY)
        case .relu: return Int32(FV_ACT_RELU)
        case .relu6: return Int32(FV_ACT_RELU6)
        case .silu: return Int32(FV_ACT_SILU)
        case .sigmoid: return Int32(FV_ACT_SIGMOID)
        }
    }

    /// The activation of one value (used by small vectors and tests).
    @inlinable
    public func callAsFunction(_ v: Float) -> Float {
        switch self {
        case .identity: return v
        case .relu: return max(v, 0)
        case .relu6: return min(max(v, 0), 6)
        case .silu: return v / (1 + fastExp(-v))
        case .sigmoid: return 1 / (1 + fastExp(-v))
        }
    }
}

/// exp(x) for Float, vectorisable: range reduction to r ∈ [-ln2/2, ln2/2], a degree-6 polynomial, and 2^n built
/// from the exponent bits. Inputs are clamped to [-87.3, 88], so it never returns inf or denormals.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    let xc = min(max(x, -87.3), 88.0)
    // Round x/ln2 to the nearest integer with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
    let magic: Float = 12582912.0
    let t = xc * 1.44269504088896341 + magic
    let n = t - magic
    var r = xc - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r * r + r + 1
    let nBits = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
    let scale = Float(bitPattern: UInt32(bitPattern: (nBits &+ 127) &<< 23))
    return er * scale
}

/// Softmax over a vector, computed stably (max subtracted) in Double for the sum.
public func softmax(_ logits: [Float]) -> [Float] {
    guard let m = logits.max() else { return [] }
    let e = logits.map { Foundation.exp(Double($0 - m)) }
    let s = e.reduce(0, +)
    return e.map { Float($0 / s) }
}

