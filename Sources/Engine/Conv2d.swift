import CEngineKernels

/// A 2-D convolution with bias and a fused activation.
///
/// The backbone runs it channels-last (`forwardChannelsLast`, Conv2dChannelsLast.swift). This file is the NCHW
/// form the head and the op tests use:
/// - pointwise (1×1, stride 1, no padding, one group): one sgemm per image, no copy of the input;
/// - depthwise (one input channel per group): the channels-last kernel, the image transposed in and out;
/// - everything else (any kernel, stride, padding, groups): im2col per group, then sgemm.
/// Batch norm is folded into `weight` and `bias` at load time (see `BatchNorm.fold`).
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

    /// Scratch floats `forward` needs for an input of this size.
    public func scratchCount(height: Int, width: Int) -> Int {
        switch kind {
        case .pointwise: return 0
        case .depthwise: return channelsLastScratchCount(height: height, width: width)
        case .general:
            let o = outputSize(height: height, width: width)
            return (inChannels / groups) * kernelH * kernelW * o.height * o.width
        }
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

    /// y = act(conv(x) + bias) on NCHW tensors. `y` is reshaped to [n, outChannels, ho, wo]; its capacity must
    /// suffice.
    public func forward(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        LayerProfile.measure(profileName, "\(inChannels)→\(outChannels) \(x.shape.suffix(2).map(String.init).joined(separator: "×"))",
                             flops: flops(height: x.nchw.h, width: x.nchw.w) * Double(x.nchw.n)) {
            run(x, into: y, workspace: workspace)
        }
    }

    /// Multiply-adds ×2 of one image through this conv.
    public func flops(height: Int, width: Int) -> Double {
        let o = outputSize(height: height, width: width)
        return 2 * Double(outChannels * (inChannels / groups) * kernelH * kernelW * o.height * o.width)
    }

    private var profileName: String {
        switch kind {
        case .pointwise: return "pointwise"
        case .depthwise: return "depthwise \(kernelH)×\(kernelW)/\(strideH)"
        case .general: return "conv \(kernelH)×\(kernelW)/\(strideH)"
        }
    }

    private func run(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        let (n, c, h, w) = x.nchw
        precondition(c == inChannels, "Conv2d: input has \(c) channels, expected \(inChannels)")
        let (ho, wo) = outputSize(height: h, width: w)
        if kind == .depthwise { return depthwise(x, into: y, workspace: workspace) }
        precondition(!weight.isEmpty, "Conv2d: the NCHW weights were released (this conv runs channels-last)")
        y.reshape([n, outChannels, ho, wo])
        let inPlane = c * h * w, outPlane = outChannels * ho * wo
        for b in 0..<n {
            let src = UnsafePointer(x.data + b * inPlane), dst = y.data + b * outPlane
            if kind == .pointwise {
                pointwise(src, dst, hw: h * w)
            } else {
                general(src, dst, h: h, w: w, ho: ho, wo: wo, workspace: workspace)
            }
            epilogue(dst, plane: ho * wo)
        }
    }

    /// Through the one depthwise kernel: each image transposed to channels-last, convolved, transposed back.
    private func depthwise(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        let (n, c, h, w) = x.nchw
        let (ho, wo) = outputSize(height: h, width: w)
        y.reshape([n, c, ho, wo])
        let nhwc = Tensor(shape: [1, h, w, c]), out = Tensor(shape: [1, ho, wo, c])
        for b in 0..<n {
            Layout.transpose(x.data + b * c * h * w, rows: c, columns: h * w, into: nhwc.data)
            forwardChannelsLast(nhwc, into: out, workspace: workspace)
            Layout.transpose(out.data, rows: ho * wo, columns: c, into: y.data + b * c * ho * wo)
        }
    }

    /// Allocating convenience (tests, one-off calls).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, _, h, w) = x.nchw
        let o = outputSize(height: h, width: w)
        let y = Tensor(shape: [n, outChannels, o.height, o.width])
        forward(x, into: y, workspace: Workspace(capacity: scratchCount(height: h, width: w)))
        return y
    }

    /// Bias and activation, one pass per output channel, channels split over threads.
    private func epilogue(_ dst: UnsafeMutablePointer<Float>, plane: Int) {
        let act = activation
        bias.withUnsafeBufferPointer { b in
            Parallel.forRanges(outChannels, minPerThread: max(1, 16_384 / max(plane, 1))) { range in
                for o in range { act.apply(dst + o * plane, count: plane, bias: b[o]) }
            }
        }
    }

    private func pointwise(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, hw: Int) {
        weight.withUnsafeBufferPointer { wp in
            BLAS.gemm(m: outChannels, n: hw, k: inChannels, a: wp.baseAddress!, b: src, c: dst)
        }
    }

    private func general(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, h: Int, w: Int,
                         ho: Int, wo: Int, workspace: Workspace) {
        let cg = inChannels / groups, og = outChannels / groups
        let k = cg * kernelH * kernelW, plane = ho * wo
        let cols = workspace.scratch(k * plane)
        weight.withUnsafeBufferPointer { wp in
            for g in 0..<groups {
                im2col(src + g * cg * h * w, channels: cg, h: h, w: w, ho: ho, wo: wo, cols: cols)
                BLAS.gemm(m: og, n: plane, k: k, a: wp.baseAddress! + g * og * k, b: cols, c: dst + g * og * plane)
            }
        }
    }

    /// Unfolds the receptive fields: row (ci, ky, kx) of `cols` holds that tap for every output position.
    private func im2col(_ src: UnsafePointer<Float>, channels: Int, h: Int, w: Int, ho: Int, wo: Int,
                        cols: UnsafeMutablePointer<Float>) {
        var row = cols
        for ci in 0..<channels {
            let plane = src + ci * h * w
            for ky in 0..<kernelH {
                for kx in 0..<kernelW {
                    let (lo, hi) = validRange(k: kx, pad: padW, stride: strideW, inSize: w, outSize: wo)
                    for oy in 0..<ho {
                        let out = row + oy * wo
                        let iy = oy * strideH - padH + ky
                        if iy < 0 || iy >= h || lo > hi {
                            out.update(repeating: 0, count: wo)
                            continue
                        }
                        let line = plane + iy * w - padW + kx
                        for ox in 0..<lo { out[ox] = 0 }
                        if strideW == 1 {
                            for ox in lo...hi { out[ox] = line[ox] }
                        } else {
                            for ox in lo...hi { out[ox] = line[ox * strideW] }
                        }
                        if hi + 1 < wo { for ox in (hi + 1)..<wo { out[ox] = 0 } }
                    }
                    row += ho * wo
                }
            }
        }
    }

    /// Output columns [lo, hi] whose tap `k` falls inside the input (empty when lo > hi).
    @inline(__always)
    private func validRange(k: Int, pad: Int, stride: Int, inSize: Int, outSize: Int) -> (Int, Int) {
        // ox·stride − pad + k ∈ [0, inSize)
        let lo = max(0, (pad - k + stride - 1) / stride)
        let hiNum = inSize - 1 + pad - k
        let hi = hiNum < 0 ? -1 : min(outSize - 1, hiNum / stride)
        return (lo, hi)
    }
}
