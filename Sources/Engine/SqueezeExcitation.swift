import CEngineKernels

/// Squeeze-and-excitation (torchvision's SqueezeExcitation): s = sigmoid(fc2(act(fc1(avgpool(x))))), x ← x·s.
/// fc1/fc2 are 1×1 convs on a 1×1 map, i.e. small matrix-vector products.
public final class SqueezeExcitation {
    public let channels: Int
    public let squeezeChannels: Int
    public let reduce: Linear
    public let expand: Linear
    /// expand's weight transposed, [squeezeChannels][channels]: the kernel sums its rows.
    let expandTransposed: [Float]

    public init(channels: Int, squeezeChannels: Int, fc1Weight: [Float], fc1Bias: [Float],
                fc2Weight: [Float], fc2Bias: [Float], activation: Activation = .silu) {
        self.channels = channels; self.squeezeChannels = squeezeChannels
        reduce = Linear(inFeatures: channels, outFeatures: squeezeChannels, weight: fc1Weight, bias: fc1Bias,
                        activation: activation)
        expand = Linear(inFeatures: squeezeChannels, outFeatures: channels, weight: fc2Weight, bias: fc2Bias,
                        activation: .sigmoid)
        var t = [Float](repeating: 0, count: fc2Weight.count)
        for c in 0..<channels { for j in 0..<squeezeChannels { t[j * channels + c] = fc2Weight[c * squeezeChannels + j] } }
        expandTransposed = t
    }

    /// Scratch floats `excitation` needs.
    public var scratchCount: Int { squeezeChannels }

    /// The excitation: per-channel scales from per-channel means (`pooled`, `channels` values) into `scale`.
    public func excitation(pooled: UnsafePointer<Float>, into scale: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let squeezed = workspace.scratch(squeezeChannels)
        reduce.weight.withUnsafeBufferPointer { w1 in reduce.bias.withUnsafeBufferPointer { b1 in
            expandTransposed.withUnsafeBufferPointer { w2 in expand.bias.withUnsafeBufferPointer { b2 in
                fv_squeeze_excitation(pooled, channels, squeezeChannels, w1.baseAddress!, b1.baseAddress!,
                                      reduce.activation.kernelCode, w2.baseAddress!, b2.baseAddress!,
                                      expand.activation.kernelCode, squeezed, scale)
            } }
        } }
    }

    /// x[p, ch] ×= scale[ch] over one NHWC image of `pixels` rows of `channels`, pixels split over threads.
    public static func scaleChannelsLast(_ x: UnsafeMutablePointer<Float>, pixels: Int, channels: Int,
                                         by scale: UnsafePointer<Float>) {
        Parallel.forRanges(pixels, minPerThread: max(1, 8_192 / max(channels, 1))) { range in
            for p in range {
                let row = x + p * channels
                for ch in 0..<channels { row[ch] *= scale[ch] }
            }
        }
    }
}
