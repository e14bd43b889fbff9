import CEngineKernels

/// A 2-D convolution with bias and a fused activation.
///
/// Every conv runs channels-last (`forwardChannelsLast`, Conv2dChannelsLast.swift: packed GEMM, depthwise, or an
/// unfolded general conv). This file holds the layer's shape and weights: the NCHW weights as loaded, with batch
/// norm folded into `weight` and `bias` (see `BatchNorm.fold`), until the channels-last copy replaces them.
public final class Conv2d {
    public enum Kind: Sendable { case pointwise, depthwise, general }

    public let inChannels: Int
    public let outChannels: Int
    public let kernelH: Int, kernelW: Int
    public let strideH: Int, strideW: Int
    public let padH: Int, padW: Int
    public let groups: Int
    public let kind: Kind
    public var activation: Activation
    /// [outChannels, inChannels/groups, kernelH, kernelW]
    public private(set) var weight: [Float]
    /// [outChannels]; zeros when the layer has none.
    public private(set) var bias: [Float]
    /// The weights re-packed for the channels-last kernels (see `prepareChannelsLast`); empty until then.
    public internal(set) var channelsLastWeight: [Float] = []

    public init(inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), groups: Int = 1, weight: [Float], bias: [Float]? = nil,
                activation: Activation = .identity) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0, "Conv2d: bad groups")
        precondition(weight.count == outChannels * (inChannels / groups) * kernel.0 * kernel.1, "Conv2d: weight size")
        precondition(bias == nil || bias!.count == outChannels, "Conv2d: bias size")
        self.inChannels = inChannels; self.outChannels = outChannels
        kernelH = kernel.0; kernelW = kernel.1
        strideH = stride.0; strideW = stride.1
        padH = padding.0; padW = padding.1
        self.groups = groups
        self.weight = weight
        self.bias = bias ?? [Float](repeating: 0, count: outChannels)
        self.activation = activation
        if kernel == (1, 1) && stride == (1, 1) && padding == (0, 0) && groups == 1 {
            kind = .pointwise
        } else if groups == inChannels && groups == outChannels {
            kind = .depthwise
            prepareChannelsLast()  // its only kernel is the channels-last one
        } else {
            kind = .general
        }
    }

    /// Square-kernel convenience with PyTorch's argument order.
    public convenience init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            groups: Int = 1, weight: [Float], bias: [Float]? = nil, activation: Activation = .identity) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernel: (kernelSize, kernelSize),
                  stride: (stride, stride), padding: (padding, padding), groups: groups, weight: weight, bias: bias,
                  activation: activation)
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padH - kernelH) / strideH + 1, (width + 2 * padW - kernelW) / strideW + 1)
    }

    /// Frees the NCHW weights once only the channels-last copy is used (`prepareChannelsLast(keepingNCHW: false)`).
    func releaseNCHWWeight() { weight = [] }

    /// Multiplies every output channel's weights and bias (used to fold a following per-channel affine map).
    public func scaleOutputChannels(scale: [Float], shift: [Float]) {
        precondition(scale.count == outChannels && shift.count == outChannels)
        precondition(!weight.isEmpty, "Conv2d: the NCHW weights were released")
        let per = weight.count / outChannels
        for o in 0..<outChannels {
            for i in 0..<per { weight[o * per + i] *= scale[o] }
            bias[o] = bias[o] * scale[o] + shift[o]
        }
        if !channelsLastWeight.isEmpty { prepareChannelsLast() }
    }

    /// Multiply-adds ×2 of one image through this conv.
    public func flops(height: Int, width: Int) -> Double {
        let o = outputSize(height: height, width: width)
        return 2 * Double(outChannels * (inChannels / groups) * kernelH * kernelW * o.height * o.width)
    }
}
