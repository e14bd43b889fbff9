import CEngineKernels

/// The channels-last (NHWC) forward of `Conv2d`: the layout the backbone runs in.
///
/// Channels innermost make every kernel a long contiguous vector loop: a 1×1 conv is one GEMM over
/// (pixels × input channels) · (input channels × output channels) on weights packed once into 32-column panels,
/// with bias, activation and the residual applied to each tile as it is computed; a depthwise conv vectorises over
/// channels with no padded copy of the input; a general conv (the stem) unfolds a few rows of patches at a time and
/// runs the same GEMM on them.
/// NHWC tensors have shape [n, h, w, c].
extension Conv2d {
    /// Re-packs the weights for `forwardChannelsLast` (once, at load): 32-column GEMM panels for pointwise and
    /// general convs (patch order ky, kx, ci, matching the unfolded rows), tap-major [kh·kw][c] for depthwise.
    /// A pointwise conv whose weights are all exact in half precision gets half-precision panels (`halfPanels`;
    /// the kernels widen them as they load, so the result is the same as from F32 panels). By default only where
    /// the kernels widen in hardware (AVX2's F16C, AVX-512): the baseline path widens in software, which made the
    /// shipped member's forward 1.6–2× slower there.
    /// `keepingNCHW: false` frees the NCHW copy (a backbone that only runs channels-last; half the weight memory).
    public func prepareChannelsLast(keepingNCHW: Bool = true, halfPanels: Bool = HalfPrecision.widenedInHardware) {
        defer { if !keepingNCHW { releaseNCHWWeight() } }
        switch kind {
        case .depthwise:
            let taps = kernelH * kernelW
            channelsLastWeight = LineAlignedBuffer(count: taps * outChannels) { t in
                for c in 0..<outChannels { for k in 0..<taps { t[k * outChannels + c] = weight[c * taps + k] } }
            }
        case .pointwise:
            // 1×1: PyTorch's [out][in] is already the panels' source order.
            if halfPanels, let halves = HalfPrecision.exactBits(weight) {
                channelsLastHalfWeight = LineAlignedBuffer(count: fv_packed_size(outChannels, inChannels)) { packed in
                    halves.withUnsafeBufferPointer { w in
                        fv_pack_weights_half(w.baseAddress!, outChannels, inChannels, packed.baseAddress!)
                    }
                }
                channelsLastWeight = LineAlignedBuffer()
            } else {
                channelsLastWeight = Conv2d.packed(weight, outputs: outChannels, inputs: inChannels)
                channelsLastHalfWeight = LineAlignedBuffer()
            }
        case .general:
            precondition(groups == 1, "Conv2d.prepareChannelsLast: grouped convs other than depthwise are not supported")
            let k = inChannels * kernelH * kernelW
            // PyTorch order (ci, ky, kx) → the unfolded rows' order (ky, kx, ci).
            var reordered = [Float](repeating: 0, count: weight.count)
            for o in 0..<outChannels {
                for ci in 0..<inChannels {
                    for ky in 0..<kernelH {
                        for kx in 0..<kernelW {
                            reordered[o * k + (ky * kernelW + kx) * inChannels + ci] =
                                weight[o * k + (ci * kernelH + ky) * kernelW + kx]
                        }
                    }
                }
            }
            channelsLastWeight = Conv2d.packed(reordered, outputs: outChannels, inputs: k)
        }
    }

    private static func packed(_ weight: [Float], outputs n: Int, inputs k: Int) -> LineAlignedBuffer<Float> {
        LineAlignedBuffer(count: fv_packed_size(n, k)) { packed in
            weight.withUnsafeBufferPointer { w in fv_pack_weights(w.baseAddress!, n, k, packed.baseAddress!) }
        }
    }

    /// The packed panels as the GEMM kernels take them.
    func withPanels<R>(_ body: (fv_panels) -> R) -> R {
        outputScale.withUnsafeBufferPointer { os in
            let scale = os.isEmpty ? nil : os.baseAddress
            if !channelsLastHalfWeight.isEmpty {
                return channelsLastHalfWeight.withUnsafeBufferPointer {
                    body(fv_panels(f32: nil, f16: $0.baseAddress, out_scale: scale))
                }
            }
            return channelsLastWeight.withUnsafeBufferPointer {
                body(fv_panels(f32: $0.baseAddress, f16: nil, out_scale: scale))
            }
        }
    }

    /// Scratch floats `forwardChannelsLast` needs for an input of this size (any batch: images run one at a time).
    public func channelsLastScratchCount(height: Int, width: Int) -> Int {
        let o = outputSize(height: height, width: width)
        switch kind {
        case .pointwise: return 0
        case .depthwise:  // per-thread pool sums, and the small-map kernel's per-thread tile
            return Parallel.threads * (outChannels + fv_depthwise_small_tile_size(height, width, Int32(padH), Int32(padW)))
        case .general: return Parallel.threads * Conv2d.unfoldRows * o.width * inChannels * kernelH * kernelW
        }
    }

    /// y = act(conv(x) + bias) [+ residual] on NHWC tensors; `y` is reshaped to [n, ho, wo, outChannels].
    /// - channelSums (depthwise): receives each image's per-channel sums of the output (n × outChannels).
    /// - inputScale (pointwise, batch 1): per-input-channel factors applied to the weights' rows inside the GEMM.
    /// - inputIsNCHW (general convs): `x` is NCHW [n, c, h, w], unfolded straight into rows (the stem reads the
    ///   model's input without a transpose).
    public func forwardChannelsLast(_ x: Tensor, into y: Tensor, workspace: Workspace, residual: Tensor? = nil,
                                    channelSums: UnsafeMutablePointer<Float>? = nil,
                                    inputScale: UnsafePointer<Float>? = nil, inputIsNCHW: Bool = false) {
        precondition(isPacked, "Conv2d: call prepareChannelsLast() first")
        precondition(!inputIsNCHW || kind == .general, "Conv2d: only a general conv reads NCHW input")
        let channelAxis = inputIsNCHW ? 1 : 3
        precondition(x.shape.count == 4 && x.shape[channelAxis] == inChannels,
                     "Conv2d: input \(x.shape), expected \(inChannels) channels")
        let n = x.shape[0], h = x.shape[inputIsNCHW ? 2 : 1], w = x.shape[inputIsNCHW ? 3 : 2]
        let (ho, wo) = outputSize(height: h, width: w)
        LayerProfile.measure(channelsLastProfileName, "\(inChannels)→\(outChannels) \(h)×\(w)",
                             flops: flops(height: h, width: w) * Double(n)) {
            y.reshape([n, ho, wo, outChannels])
            if let residual { precondition(residual.count == y.count, "Conv2d: residual shape \(residual.shape) vs \(y.shape)") }
            switch kind {
            case .pointwise:
                precondition(inputScale == nil || n == 1, "Conv2d: an input scale needs batch 1")
                withPanels {
                    gemm(a: x.data, rows: n * h * w, k: inChannels, weights: $0, scale: inputScale,
                         residual: residual.map { UnsafePointer($0.data) }, c: y.data)
                }
            case .depthwise:
                precondition(residual == nil, "Conv2d: depthwise takes no residual")
                for b in 0..<n {
                    depthwise(x.data + b * h * w * inChannels, h: h, w: w, ho: ho, wo: wo,
                              y: y.data + b * ho * wo * outChannels, sums: channelSums.map { $0 + b * outChannels },
                              workspace: workspace)
                }
            case .general:
                // Unfold a few output rows at a time into this thread's slice and multiply them at once, so the
                // patch matrix stays in L1/L2 (for a 384×384 input the whole of it would be 4 MB).
                let k = inChannels * kernelH * kernelW, step = Conv2d.unfoldRows
                let chunks = Parallel.chunkCount(ho, minPerThread: step)
                let cols = workspace.scratch(chunks * step * wo * k)
                let panels = (outChannels + Int(FV_PANEL) - 1) / Int(FV_PANEL), act = activation.kernelCode
                withPanels { wt in bias.withUnsafeBufferPointer { b in
                    for img in 0..<n {
                        let image = x.data + img * h * w * inChannels, out = y.data + img * ho * wo * outChannels
                        let res = residual.map { UnsafePointer($0.data + img * ho * wo * outChannels) }
                        Parallel.forChunks(ho, minPerThread: step) { chunk, range in
                            let mine = cols + chunk * step * wo * k
                            var r0 = range.lowerBound
                            while r0 < range.upperBound {
                                let r1 = min(range.upperBound, r0 + step)
                                // fv_unfold_* write rows (oy·wo + ox); offset so that row r0 lands at the slice start.
                                let base = mine - r0 * wo * k
                                if inputIsNCHW {
                                    fv_unfold_nchw(image, inChannels, h, w, Int32(kernelH), Int32(kernelW), Int32(strideH),
                                                   Int32(strideW), Int32(padH), Int32(padW), wo, r0, r1, base)
                                } else {
                                    fv_unfold_nhwc(image, h, w, inChannels, Int32(kernelH), Int32(kernelW), Int32(strideH),
                                                   Int32(strideW), Int32(padH), Int32(padW), wo, r0, r1, base)
                                }
                                fv_gemm_packed(outChannels, k, mine, k, wt, nil, b.baseAddress!, act,
                                               res.map { $0 + r0 * wo * outChannels }, out + r0 * wo * outChannels,
                                               outChannels, 0, (r1 - r0) * wo, 0, panels)
                                r0 = r1
                            }
                        }
                    }
                } }
            }
        }
    }

    /// Output rows a general conv unfolds and multiplies at a time.
    static let unfoldRows = 4

    private var channelsLastProfileName: String {
        switch kind {
        case .pointwise: return "pointwise"
        case .depthwise: return "depthwise \(kernelH)×\(kernelW)/\(strideH)"
        case .general: return "conv \(kernelH)×\(kernelW)/\(strideH)"
        }
    }

    /// The fewest rows (pixels) a 1×1 conv splits over threads by rows; below it, by output channels (panels).
    /// The small-map depthwise conv after it splits the same way. Each conv's own `rowSplitMinimum` starts here.
    static let rowSplitPixels = 96

    /// The packed GEMM over `rows` rows, split over threads by row tiles, or by panels when there are few rows.
    private func gemm(a: UnsafePointer<Float>, rows: Int, k: Int, weights: fv_panels, scale: UnsafePointer<Float>?,
                      residual: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) {
        let n = outChannels, panels = (n + Int(FV_PANEL) - 1) / Int(FV_PANEL)
        let act = activation.kernelCode
        bias.withUnsafeBufferPointer { b in
            let bias = b.baseAddress!
            if rows >= rowSplitMinimum || panels < 2 {
                let tiles = (rows + 11) / 12  // 12-row tiles (the AVX-512 micro-kernel's height)
                // At least 512·64·12 ≈ 0.4 M multiply-adds per thread (a few µs): Lite0's 144→40 at 28×28 and 240→80
                // at 14×14 ran on one core under the earlier bound of 3 M.
                Parallel.forRanges(tiles, minPerThread: max(1, 512 / max(n * k / 64, 1))) { range in
                    fv_gemm_packed(n, k, a, k, weights, scale, bias, act, residual, c, n,
                                   range.lowerBound * 12, min(rows, range.upperBound * 12), 0, panels)
                }
            } else {
                Parallel.forRanges(panels, minPerThread: max(1, 2_048 / max(rows * k / 32, 1))) { range in
                    fv_gemm_packed(n, k, a, k, weights, scale, bias, act, residual, c, n, 0, rows, range.lowerBound, range.upperBound)
                }
            }
        }
    }

    /// Whether `forwardChannelsLast(fusingExpand:)` pays for an input of this size: when the expanded tensor
    /// would not stay in L2 (at least 1.5 MB; this machine's L2 is 1 MB per core). Below that the rows each thread
    /// recomputes at its chunk's edge cost more than the memory traffic saved. Measured in interleaved runs:
    /// fusing Lite0's 56×56×144 blocks (1.8 MB) made its forward 4–7 % faster; fusing B4's 28×28×336 (1.05 MB)
    /// made B4's 7 % slower.
    public func fusesExpand(height: Int, width: Int) -> Bool {
        kind == .depthwise && height * width * inChannels >= 384 * 1024 && kernelH <= 16
    }

    /// Scratch floats of `forwardChannelsLast(fusingExpand:)`: per thread, a ring of kernelH expanded rows and
    /// its pool sums.
    public func fusedExpandScratchCount(height: Int, width: Int) -> Int {
        Parallel.threads * (fv_expand_depthwise_ring_size(width, inChannels, Int32(kernelH)) + outChannels)
    }

    /// This depthwise conv applied to `expand`'s output (a pointwise conv, channels-last) without materialising
    /// the expanded tensor: each thread computes the expanded rows its output rows need into a small ring.
    /// Same result as `expand` then `forwardChannelsLast`, to rounding.
    public func forwardChannelsLast(fusingExpand expand: Conv2d, _ x: Tensor, into y: Tensor, workspace: Workspace,
                                    channelSums: UnsafeMutablePointer<Float>? = nil) {
        precondition(kind == .depthwise && expand.kind == .pointwise && expand.outChannels == inChannels,
                     "Conv2d: fusing needs a pointwise expand into this depthwise conv")
        precondition(isPacked && expand.isPacked, "Conv2d: call prepareChannelsLast() first")
        precondition(x.shape.count == 4 && x.shape[0] == 1 && x.shape[3] == expand.inChannels, "Conv2d: NHWC input \(x.shape)")
        let h = x.shape[1], w = x.shape[2], c = outChannels
        let (ho, wo) = outputSize(height: h, width: w)
        LayerProfile.measure("expand+depthwise \(kernelH)×\(kernelW)/\(strideH)", "\(expand.inChannels)→\(c) \(h)×\(w)",
                             flops: expand.flops(height: h, width: w) + flops(height: h, width: w)) {
            y.reshape([1, ho, wo, c])
            let act = activation.kernelCode, expandAct = expand.activation.kernelCode
            overRingedRows(after: expand, ho, ringFloats: fv_expand_depthwise_ring_size(w, c, Int32(kernelH)),
                           workspace: workspace, channelSums: channelSums) { rows, ring, sums, weights in
                fv_expand_depthwise_nhwc(x.data, h, w, expand.inChannels, weights.producer, weights.producerBias, expandAct,
                                         c, weights.depthwise, weights.depthwiseBias, Int32(kernelH), Int32(kernelW),
                                         Int32(strideH), Int32(strideW), Int32(padH), Int32(padW), act, y.data,
                                         ho, wo, rows.lowerBound, rows.upperBound, sums, ring)
            }
        }
    }

    /// Scratch floats of `forwardChannelsLast(fusingStem:)` for a stem output of height × width: per thread, a
    /// ring of kernelH stem rows, one row of unfolded patches, and its pool sums.
    public func fusedStemScratchCount(stem: Conv2d, height: Int, width: Int) -> Int {
        Parallel.threads * (fv_stem_depthwise_scratch_size(width, inChannels, Int32(kernelH),
                                                           stem.inChannels * stem.kernelH * stem.kernelW) + outChannels)
    }

    /// This depthwise conv applied to `stem`'s output (a general conv reading the NCHW `image`) without
    /// materialising it: each thread unfolds and multiplies the stem rows its output rows need into a small ring.
    /// Same result as `stem.forwardChannelsLast(image, inputIsNCHW: true)` then `forwardChannelsLast`, to rounding.
    public func forwardChannelsLast(fusingStem stem: Conv2d, image: Tensor, into y: Tensor, workspace: Workspace,
                                    channelSums: UnsafeMutablePointer<Float>? = nil) {
        precondition(kind == .depthwise && stem.kind == .general && stem.outChannels == inChannels,
                     "Conv2d: fusing needs a general stem conv into this depthwise conv")
        precondition(isPacked && stem.isPacked, "Conv2d: call prepareChannelsLast() first")
        precondition(image.shape.count == 4 && image.shape[0] == 1 && image.shape[1] == stem.inChannels,
                     "Conv2d: NCHW image \(image.shape)")
        let ih = image.shape[2], iw = image.shape[3]
        let (h, w) = stem.outputSize(height: ih, width: iw)
        let (ho, wo) = outputSize(height: h, width: w)
        let c = outChannels, k = stem.inChannels * stem.kernelH * stem.kernelW
        LayerProfile.measure("stem+depthwise \(kernelH)×\(kernelW)/\(strideH)", "\(stem.inChannels)→\(c) \(ih)×\(iw)",
                             flops: stem.flops(height: ih, width: iw) + flops(height: h, width: w)) {
            y.reshape([1, ho, wo, c])
            let act = activation.kernelCode, stemAct = stem.activation.kernelCode
            overRingedRows(after: stem, ho, ringFloats: fv_stem_depthwise_scratch_size(w, c, Int32(kernelH), k),
                           workspace: workspace, channelSums: channelSums) { rows, ring, sums, weights in
                fv_stem_depthwise_nhwc(image.data, stem.inChannels, ih, iw, Int32(stem.kernelH), Int32(stem.kernelW),
                                       Int32(stem.strideH), Int32(stem.strideW), Int32(stem.padH), Int32(stem.padW),
                                       weights.producer, weights.producerBias, stemAct, h, w, c, weights.depthwise,
                                       weights.depthwiseBias, Int32(kernelH), Int32(kernelW), Int32(strideH),
                                       Int32(strideW), Int32(padH), Int32(padW), act, y.data, ho, wo,
                                       rows.lowerBound, rows.upperBound, sums, ring)
            }
        }
    }

    /// The packed weights and biases a fused kernel reads: the layer fused in front (`producer`) and this one.
    private struct FusedWeights {
        let producer: fv_panels
        let producerBias, depthwise, depthwiseBias: UnsafePointer<Float>
    }

    /// The thread split of the fused kernels: output rows in chunks of at least kernelH (so the kernelH − strideH
    /// rows each thread recomputes at its chunk's edge stay cheap), each chunk with its own ring of `ringFloats`
    /// and its own pool sums (nil when `channelSums` is), added into `channelSums` afterwards; `producer`'s and
    /// this conv's weights are held for the body.
    private func overRingedRows(after producer: Conv2d, _ ho: Int, ringFloats: Int, workspace: Workspace,
                                channelSums: UnsafeMutablePointer<Float>?,
                                _ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, FusedWeights) -> Void) {
        let c = outChannels, per = ringFloats + c, minRows = kernelH
        let chunks = Parallel.chunkCount(ho, minPerThread: minRows)
        let scratch = workspace.scratch(chunks * per)
        for t in 0..<chunks { (scratch + t * per + ringFloats).update(repeating: 0, count: c) }
        producer.withPanels { pw in producer.bias.withUnsafeBufferPointer { pb in
            channelsLastWeight.withUnsafeBufferPointer { wt in bias.withUnsafeBufferPointer { b in
                let weights = FusedWeights(producer: pw, producerBias: pb.baseAddress!,
                                           depthwise: wt.baseAddress!, depthwiseBias: b.baseAddress!)
                Parallel.forChunks(ho, minPerThread: minRows) { chunk, rows in
                    let base = scratch + chunk * per
                    body(rows, base, channelSums == nil ? nil : base + ringFloats, weights)
                }
            } }
        } }
        if let channelSums { Conv2d.addPartialSums(scratch + ringFloats, chunks: chunks, stride: per, channels: c, into: channelSums) }
    }

    /// Output rows split over threads; each thread sums its rows into its own slice, added up afterwards.
    private func depthwise(_ x: UnsafePointer<Float>, h: Int, w: Int, ho: Int, wo: Int, y: UnsafeMutablePointer<Float>,
                           sums: UnsafeMutablePointer<Float>?, workspace: Workspace) {
        let c = outChannels, act = activation.kernelCode
        if fv_depthwise_small_supported(h, w, Int32(kernelH), Int32(kernelW), Int32(strideH), Int32(strideW), Int32(padH), Int32(padW)) != 0 {
            // Small maps: each chunk's input band in a padded tile, its pool sums in its own slice. The split
            // follows the 1×1 conv that wrote the input, so that each core reads what it wrote: by rows where that
            // conv splits its rows (maps of `rowSplitPixels` or more: 14×14), by channels where it splits its output
            // channels (7×7). A 3×3 conv splits its rows on any map: its 3×3 layers took 0.55–0.8 of the time split
            // by channels. A 5×5 conv split by rows took 0.78–0.86 of the time on the 14×14 maps and 1.2–1.25 on the
            // 7×7 ones (four halo rows, 4 + 3 uneven rows; interleaved runs of `bench --layers`, Intel Xeon, AVX-512)
            // when the convs around it split their channels; where they split rows too, rows win (`rowSplitMinimum`,
            // set by `MBConvBlock.keepsRowsOnEachCore`).
            let tileSize = fv_depthwise_small_tile_size(h, w, Int32(padH), Int32(padW)), per = tileSize + c
            let byRows = kernelH <= 3 || h * w >= rowSplitMinimum
            let vectors = (c + 15) / 16
            let chunks = byRows ? Parallel.chunkCount(ho) : Parallel.chunkCount(vectors, minPerThread: 2)
            let scratch = workspace.scratch(chunks * per)
            for t in 0..<chunks { (scratch + t * per + tileSize).update(repeating: 0, count: c) }
            channelsLastWeight.withUnsafeBufferPointer { wt in
                bias.withUnsafeBufferPointer { b in
                    Parallel.forChunks(byRows ? ho : vectors, minPerThread: byRows ? 1 : 2) { chunk, range in
                        let base = scratch + chunk * per
                        let rows = byRows ? range : 0..<ho
                        let channels = byRows ? 0..<c : (range.lowerBound * 16)..<min(c, range.upperBound * 16)
                        fv_depthwise_nhwc_tiled(x, h, w, c, wt.baseAddress!, b.baseAddress!, Int32(kernelH), Int32(kernelW),
                                                Int32(strideH), Int32(strideW), Int32(padH), Int32(padW), act, y, ho, wo,
                                                rows.lowerBound, rows.upperBound, channels.lowerBound, channels.upperBound,
                                                sums == nil ? nil : base + tileSize, base)
                    }
                }
            }
            if let sums { Conv2d.addPartialSums(scratch + tileSize, chunks: chunks, stride: per, channels: c, into: sums) }
            return
        }
        let minRows = max(1, 16_384 / max(wo * c * kernelH * kernelW, 1))
        let chunks = Parallel.chunkCount(ho, minPerThread: minRows)
        let partial = workspace.scratch(chunks * c)
        if sums != nil { partial.update(repeating: 0, count: chunks * c) }
        channelsLastWeight.withUnsafeBufferPointer { wt in
            bias.withUnsafeBufferPointer { b in
                Parallel.forChunks(ho, minPerThread: minRows) { chunk, rows in
                    fv_depthwise_nhwc(x, h, w, c, wt.baseAddress!, b.baseAddress!, Int32(kernelH), Int32(kernelW),
                                      Int32(strideH), Int32(strideW), Int32(padH), Int32(padW), act, y, ho, wo,
                                      rows.lowerBound, rows.upperBound, sums == nil ? nil : partial + chunk * c)
                }
            }
        }
        if let sums { Conv2d.addPartialSums(partial, chunks: chunks, stride: c, channels: c, into: sums) }
    }

    /// sums[ch] = the sum over chunks of each chunk's pool sums (`channels` floats every `stride` from `partials`): the
    /// threads of a split conv each sum their own outputs, added up once they are done.
    private static func addPartialSums(_ partials: UnsafePointer<Float>, chunks: Int, stride: Int, channels: Int,
                                       into sums: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0, count: channels)
        for t in 0..<chunks { for ch in 0..<channels { sums[ch] += partials[t * stride + ch] } }
    }
}
