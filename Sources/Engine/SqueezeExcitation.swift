/// Squeeze-and-excitation (torchvision's SqueezeExcitation): s = sigmoid(fc2(act(fc1(avgpool(x))))), x ← x·s.
/// fc1/fc2 are 1×1 convs on a 1×1 map, i.e. small matrix-vector products.
public final class SqueezeExcitation {
    public let channels: Int
    public let squeezeChannels: Int
    public let reduce: Linear
    public let expand: Linear

    public init(channels: Int, squeezeChannels: Int, fc1Weight: [Float], fc1Bias: [Float],
                fc2Weight: [Float], fc2Bias: [Float], activation: Activation = .silu) {
        self.channels = channels; self.squeezeChannels = squeezeChannels
        reduce = Linear(inFeatures: channels, outFeatures: squeezeChannels, weight: fc1Weight, bias: fc1Bias,
                        activation: activation)
        expand = Linear(inFeatures: squeezeChannels, outFeatures: channels, weight: fc2Weight, bias: fc2Bias,
                        activation: .sigmoid)
    }

    /// Scratch floats `forward` needs.
    public var scratchCount: Int { 2 * channels + squeezeChannels }

    /// Scales x in place, image by image.
    public func forward(_ x: Tensor, workspace: Workspace) {
        let (n, c, h, w) = x.nchw
        precondition(c == channels, "SqueezeExcitation: \(c) channels, expected \(channels)")
        let plane = h * w
        let pooled = workspace.scratch(scratchCount), squeezed = pooled + channels, scale = squeezed + squeezeChannels
        for b in 0..<n {
            let img = x.data + b * c * plane
            globalAveragePool(img, channels: c, plane: plane, into: pooled)
            reduce.forward(pooled, rows: 1, into: squeezed)
            expand.forward(squeezed, rows: 1, into: scale)
            for ch in 0..<c {
                let s = scale[ch], p = img + ch * plane
                for i in 0..<plane { p[i] *= s }
            }
        }
    }
}
