import CEngineKernels

/// A 2-D convolution with bias and a fused activation.
///
/// Every conv runs channels-last (`forwardChannelsLast`, Conv2dChannelsLast.swift: packed GEMM, depthwise, or an
/// unfolded general conv). This file holds the layer's shape and weights: the NCHW weights as loaded, with batch
/// norm folded in (see `BatchNorm.fold`: into `weight` and `bias`, or for a pointwise conv into `outputScale` and
/// `bias`), until the channels-last copy replaces them.
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
    /// The weights re-packed for the channels-last kernels (see `prepareChannelsLast`); empty until then, and
    /// empty for a pointwise conv whose weights went into `channelsLastHalfWeight`.
    public internal(set) var channelsLastWeight = LineAlignedBuffer<Float>()
    /// A pointwise conv's packed panels as IEEE half-precision bit patterns, when every weight is exact in half
    /// precision (the shipped files are F16): the same numbers in half the memory. Empty otherwise.
    public internal(set) var channelsLastHalfWeight = LineAlignedBuffer<UInt16>()
    /// Per-output factors a pointwise conv applies to its sums before the bias: its batch norm's scale, kept out of
    /// the weights so that F16 weights stay exact in half precision. Empty: none.
    public private(set) var outputScale: [Float] = []
    /// The fewest pixels on which this conv splits its rows over the threads (fewer: a 1×1 conv splits its output
    /// channels, a small-map depthwise conv its channels). An MBConv block lowers it for its three convs together
    /// (`MBConvBlock.keepsRowsOnEachCore`).
    public var rowSplitMinimum = Conv2d.rowSplitPixels
    /// Whether `prepareChannelsLast` has run.
    public var isPacked: Bool { !channelsLastWeight.isEmpty || !channelsLastHalfWeight.isEmpty }

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

    /// Folds a following per-channel affine map (a batch norm) into this conv: a pointwise conv keeps the scale as
    /// `outputScale` (its weights stay as loaded), the others multiply every output channel's weights.
    public func scaleOutputChannels(scale: [Float], shift: [Float]) {
        precondition(scale.count == outChannels && shift.count == outChannels)
        if kind == .pointwise {
            outputScale = outputScale.isEmpty ? scale : zip(outputScale, scale).map { $0 * $1 }
            for o in 0..<outChannels { bias[o] = bias[o] * scale[o] + shift[o] }
            return
        }
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
