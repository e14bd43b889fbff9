import CEngineKernels

/// A 2-D convolution with bias and a fused activation, on NCHW tensors.
///
/// Three kernels, picked once at construction:
/// - pointwise (1×1, stride 1, no padding, one group): one sgemm per image, no copy of the input;
/// - depthwise (one input channel per group): a direct loop whose inner loop runs over a contiguous output row;
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

    /// Scratch floats `forward` needs for an input of this size (a pointwise conv given `inputScale` also needs
    /// `outChannels × inChannels` for its scaled weights).
    public func scratchCount(height: Int, width: Int) -> Int {
        let o = outputSize(height: height, width: width)
        switch kind {
        case .pointwise:
            return 0
        case .depthwise:
            guard strideH == 1 && strideW == 1 else { return 0 }
            return Parallel.threads * stride1ScratchPerThread(height: height, width: width, ho: o.height, wo: o.width)
        case .general:
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

    /// y = act(conv(x) + bias) [+ residual]. `y` is reshaped to [n, outChannels, ho, wo]; its capacity must suffice.
    /// - residual: a tensor of y's shape added after the activation (MBConv's skip connection), fused into the epilogue.
    /// - channelSums: if given, receives each output channel's sum (n × outChannels), for a following average pool.
    /// - inputScale: if given (pointwise only), per-input-channel factors applied to x (n × inChannels), by scaling
    ///   the weight columns instead of the input (squeeze-excitation folded into the following 1×1 conv).
    public func forward(_ x: Tensor, into y: Tensor, workspace: Workspace, residual: Tensor? = nil,
                        channelSums: UnsafeMutablePointer<Float>? = nil, inputScale: UnsafePointer<Float>? = nil) {
        LayerProfile.measure(profileName, "\(inChannels)→\(outChannels) \(x.shape.suffix(2).map(String.init).joined(separator: "×"))",
                             flops: flops(height: x.nchw.h, width: x.nchw.w) * Double(x.nchw.n)) {
            run(x, into: y, workspace: workspace, residual: residual, channelSums: channelSums, inputScale: inputScale)
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

    private func run(_ x: Tensor, into y: Tensor, workspace: Workspace, residual: Tensor?,
                     channelSums: UnsafeMutablePointer<Float>?, inputScale: UnsafePointer<Float>?) {
        let (n, c, h, w) = x.nchw
        precondition(!weight.isEmpty, "Conv2d: the NCHW weights were released (this conv runs channels-last)")
        precondition(c == inChannels, "Conv2d: input has \(c) channels, expected \(inChannels)")
        precondition(inputScale == nil || kind == .pointwise, "Conv2d: inputScale needs a pointwise conv")
        let (ho, wo) = outputSize(height: h, width: w)
        y.reshape([n, outChannels, ho, wo])
        if let residual { precondition(residual.count == y.count, "Conv2d: residual shape \(residual.shape) vs \(y.shape)") }
        let inPlane = c * h * w, outPlane = outChannels * ho * wo
        for b in 0..<n {
            let src = UnsafePointer(x.data + b * inPlane), dst = y.data + b * outPlane
            let res = residual.map { UnsafePointer($0.data + b * outPlane) }
            let sums = channelSums.map { $0 + b * outChannels }
            switch kind {
            case .pointwise:
                pointwise(src, dst, hw: h * w, scale: inputScale.map { $0 + b * inChannels }, workspace: workspace)
            case .depthwise:
                depthwise(src, dst, h: h, w: w, ho: ho, wo: wo, residual: res, sums: sums, workspace: workspace)
                continue
            case .general:
                general(src, dst, h: h, w: w, ho: ho, wo: wo, workspace: workspace)
            }
            epilogue(dst, plane: ho * wo, residual: res, sums: sums)
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

    /// Bias, activation, residual and channel sums, one pass per output channel, channels split over threads.
    private func epilogue(_ dst: UnsafeMutablePointer<Float>, plane: Int, residual: UnsafePointer<Float>?,
                          sums: UnsafeMutablePointer<Float>?) {
        let act = activation
        bias.withUnsafeBufferPointer { b in
            Parallel.forRanges(outChannels, minPerThread: max(1, 16_384 / max(plane, 1))) { range in
                for o in range {
                    self.finishPlane(dst + o * plane, count: plane, bias: b[o], activation: act,
                                     residual: residual.map { $0 + o * plane }, sum: sums.map { $0 + o })
                }
            }
        }
    }

    /// Bias + activation over a whole output plane (long vector loops), then the residual and the plane's sum.
    @inline(__always)
    private func finishPlane(_ out: UnsafeMutablePointer<Float>, count: Int, bias: Float, activation act: Activation,
                             residual: UnsafePointer<Float>?, sum: UnsafeMutablePointer<Float>?) {
        act.apply(out, count: count, bias: bias)
        if let residual { for i in 0..<count { out[i] += residual[i] } }
        if let sum {
            var s: Float = 0
            for i in 0..<count { s += out[i] }
            sum.pointee = s
        }
    }

    private func pointwise(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, hw: Int,
                           scale: UnsafePointer<Float>?, workspace: Workspace) {
        weight.withUnsafeBufferPointer { wp in
            var a = UnsafePointer(wp.baseAddress!)
            if let scale {
                let scaled = workspace.scratch(outChannels * inChannels)
                for o in 0..<outChannels {
                    let from = wp.baseAddress! + o * inChannels, to = scaled + o * inChannels
                    for i in 0..<inChannels { to[i] = from[i] * scale[i] }
                }
                a = UnsafePointer(scaled)
            }
            BLAS.gemm(m: outChannels, n: hw, k: inChannels, a: a, b: src, c: dst)
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

    /// One output row at a time: each tap adds w·(a shifted input row) over the output columns where it is
    /// inside the image, so the inner loop has no bounds tests. Channels are split over threads.
    private func depthwise(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, h: Int, w: Int,
                           ho: Int, wo: Int, residual: UnsafePointer<Float>?, sums: UnsafeMutablePointer<Float>?,
                           workspace: Workspace) {
        let kh = kernelH, kw = kernelW, sh = strideH, sw = strideW, ph = padH, pw = padW
        if sh == 1 && sw == 1 {
            depthwiseStride1(src, dst, h: h, w: w, ho: ho, wo: wo, residual: residual, sums: sums, workspace: workspace)
            return
        }
        let act = activation
        weight.withUnsafeBufferPointer { wbuf in
            bias.withUnsafeBufferPointer { bbuf in
                withUnsafeTemporaryAllocation(of: (Int, Int).self, capacity: kw) { rg in  // on the stack
                    for kx in 0..<kw {
                        (rg.baseAddress! + kx).initialize(to: validRange(k: kx, pad: pw, stride: sw, inSize: w, outSize: wo))
                    }
                    Parallel.forRanges(outChannels, minPerThread: max(1, 8_192 / max(ho * wo, 1))) { channels in
                        for c in channels {
                            let plane = src + c * h * w, outPlane = dst + c * ho * wo
                            let wc = wbuf.baseAddress! + c * kh * kw
                            let b = bbuf[c]
                            for oy in 0..<ho {
                                let out = outPlane + oy * wo
                                for ox in 0..<wo { out[ox] = 0 }
                                for ky in 0..<kh {
                                    let iy = oy * sh - ph + ky
                                    if iy < 0 || iy >= h { continue }
                                    let line = plane + iy * w - pw
                                    for kx in 0..<kw {
                                        let (lo, hi) = rg[kx]
                                        if lo > hi { continue }
                                        let wv = wc[ky * kw + kx]
                                        let tap = line + kx
                                        for ox in lo..<(hi + 1) { out[ox] += wv * tap[ox * sw] }
                                    }
                                }
                            }
                            self.finishPlane(outPlane, count: ho * wo, bias: b, activation: act,
                                             residual: residual.map { $0 + c * ho * wo }, sum: sums.map { $0 + c })
                        }
                    }
                }
            }
        }
    }

    /// Stride 1: copy each channel into a zero-padded plane, then accumulate every kernel row over the whole
    /// plane flattened (output rows laid out with the padded width), so that the inner loops are long and
    /// contiguous; the extra columns are dropped when the activation is applied.
    private func depthwiseStride1(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, h: Int, w: Int,
                                  ho: Int, wo: Int, residual: UnsafePointer<Float>?, sums: UnsafeMutablePointer<Float>?,
                                  workspace: Workspace) {
        let kh = kernelH, kw = kernelW, ph = padH, pw = padW
        let wp = w + 2 * pw, hp = h + 2 * ph
        let span = (ho - 1) * wp + wo
        let act = activation
        let minPerThread = max(1, 8_192 / max(ho * wo, 1))
        let perThread = stride1ScratchPerThread(height: h, width: w, ho: ho, wo: wo)
        let scratch = workspace.scratch(Parallel.chunkCount(outChannels, minPerThread: minPerThread) * perThread)
        weight.withUnsafeBufferPointer { wbuf in
            bias.withUnsafeBufferPointer { bbuf in
                Parallel.forChunks(outChannels, minPerThread: minPerThread) { chunk, channels in
                    let padded = scratch + chunk * perThread, acc = padded + hp * wp
                    padded.update(repeating: 0, count: hp * wp)  // the border stays zero; the interior is overwritten
                    for c in channels {
                        let plane = src + c * h * w
                        for y in 0..<h { (padded + (y + ph) * wp + pw).update(from: plane + y * w, count: w) }
                        acc.update(repeating: 0, count: span)
                        fv_depthwise_accumulate(acc, padded, span, wp, wbuf.baseAddress! + c * kh * kw, Int32(kh), Int32(kw))
                        let outPlane = dst + c * ho * wo
                        for oy in 0..<ho { (outPlane + oy * wo).update(from: acc + oy * wp, count: wo) }
                        self.finishPlane(outPlane, count: ho * wo, bias: bbuf[c], activation: act,
                                         residual: residual.map { $0 + c * ho * wo }, sum: sums.map { $0 + c })
                    }
                }
            }
        }
    }

    /// Per-thread floats of the stride-1 depthwise kernel: the zero-padded plane and the accumulator.
    private func stride1ScratchPerThread(height h: Int, width w: Int, ho: Int, wo: Int) -> Int {
        let wp = w + 2 * padW
        return (h + 2 * padH) * wp + (ho - 1) * wp + wo
    }
}
