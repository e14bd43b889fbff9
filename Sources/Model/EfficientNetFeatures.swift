import Engine

/// torchvision's `EfficientNet.features`: stem conv, the MBConv blocks, and the 1×1 head conv (features[-1]).
final class EfficientNetFeatures {
    let config: EfficientNetConfig
    let stem: Conv2d
    let blocks: [MBConvBlock]
    let head: Conv2d

    /// Reads `prefix.0…` through `prefix.(stages+1)…`.
    init(config: EfficientNetConfig, prefix: String, reader: inout WeightReader) throws {
        self.config = config
        let act = config.activation
        stem = try reader.convBN("\(prefix).0", inChannels: 3, outChannels: config.stemChannels, kernel: 3, stride: 2,
                                 eps: config.bnEps, activation: act)
        var blocks = [MBConvBlock]()
        for spec in config.blocks {
            blocks.append(try MBConvBlock(spec: spec, prefix: "\(prefix).\(spec.stage + 1).\(spec.indexInStage)",
                                          config: config, reader: &reader))
        }
        self.blocks = blocks
        head = try reader.convBN("\(prefix).\(config.stages.count + 1)", inChannels: config.lastStageChannels,
                                 outChannels: config.featureChannels, kernel: 1, eps: config.bnEps, activation: act)
        // The backbone runs channels-last on weights packed once here.
        for conv in [stem, head] + blocks.flatMap({ [$0.expand, $0.depthwise, $0.project].compactMap { $0 } }) {
            conv.prepareChannelsLast(keepingNCHW: false)
        }
    }

    /// The sizes of one input size's activations, and the arena that holds them, so a forward pass allocates
    /// nothing.
    final class Plan {
        let height: Int, width: Int
        let arena: ActivationArena
        /// Floats each of the four buffers needs: two for the blocks' inputs and outputs (and the stem's output, the
        /// head's), one for an expansion written out, one for a depthwise conv's output.
        let bufferCapacities: [Int]
        var buffers: [Tensor] { arena.buffers(capacities: bufferCapacities) }
        var workspace: Workspace { arena.workspace }
        let blockScratch: MBConvBlock.Scratch
        let output: Tensor
        let outputHeight: Int, outputWidth: Int

        init(features f: EfficientNetFeatures, height: Int, width: Int, arena: ActivationArena) {
            self.height = height; self.width = width; self.arena = arena
            // Sized by what each buffer holds, not all by the widest expansion: at 320×320 Lite0's first expansion
            // (160×160×96, 9.8 MB) is never written out (fused into its depthwise conv), so four buffers of its size
            // would hold 39 MB where 11 MB do.
            var blockIO = 0, expanded = 0, depthwiseOut = 0, scratch = 0
            var (h, w) = f.stem.outputSize(height: height, width: width)
            blockIO = f.stem.outChannels * h * w  // written out when the stem is not fused (and for the observers)
            scratch = max(scratch, f.stem.channelsLastScratchCount(height: height, width: width))
            if let first = f.blocks.first, first.fusesStem {
                scratch = max(scratch, first.depthwise.fusedStemScratchCount(stem: f.stem, height: h, width: w))
            }
            for b in f.blocks {
                if b.expand != nil && !b.depthwise.fusesExpand(height: h, width: w) {
                    expanded = max(expanded, b.spec.expandedChannels * h * w)
                }
                scratch = max(scratch, b.depthwise.channelsLastScratchCount(height: h, width: w))
                scratch = max(scratch, b.depthwise.fusedExpandScratchCount(height: h, width: w))
                if let e = b.expand { scratch = max(scratch, e.channelsLastScratchCount(height: h, width: w)) }
                scratch = max(scratch, b.project.channelsLastScratchCount(height: h, width: w))
                if let se = b.se { scratch = max(scratch, se.scratchCount) }
                (h, w) = b.depthwise.outputSize(height: h, width: w)
                depthwiseOut = max(depthwiseOut, b.spec.expandedChannels * h * w)
                blockIO = max(blockIO, b.spec.outChannels * h * w)
            }
            outputHeight = h; outputWidth = w
            blockIO = max(blockIO, f.head.outChannels * h * w)
            bufferCapacities = [blockIO, blockIO, expanded, depthwiseOut]
            output = Tensor(shape: [1, f.head.outChannels, h, w])
            scratch = max(scratch, f.head.channelsLastScratchCount(height: h, width: w))
            _ = arena.workspace.scratch(scratch)  // grown once here, not inside the first forward
            blockScratch = MBConvBlock.Scratch(channels: f.blocks.map(\.spec.expandedChannels).max() ?? 1)
        }
    }

    func makePlan(height: Int, width: Int, arena: ActivationArena) -> Plan {
        Plan(features: self, height: height, width: width, arena: arena)
    }

    /// `cached` when it fits this input size and arena, else a new plan stored in `cached` (a model keeps one plan
    /// and remakes it only when the input size or its arena changes).
    func plan(for x: Tensor, cached: inout Plan?, arena: ActivationArena) -> Plan {
        let (_, _, h, w) = x.nchw
        if let plan = cached, plan.height == h, plan.width == w, plan.arena === arena { return plan }
        let made = makePlan(height: h, width: w, arena: arena)
        cached = made
        return made
    }

    /// Runs the backbone on `input` ([1, 3, H, W] matching the plan); every layer runs channels-last. Returns the
    /// features as NCHW (`plan.output`, for `backbone` and the tests) and as the backbone computed them.
    /// `observe` (tests: the per-layer reference dumps) sees the stem's output and each stage's last block output,
    /// channels-last, as "stem" and "stage.N" (N = torchvision's features index).
    @discardableResult
    func forward(_ input: Tensor, plan: Plan, observe: ((String, Tensor) -> Void)? = nil)
        -> (features: Tensor, channelsLast: Tensor) {
        let channelsLast = forwardChannelsLast(input, plan: plan, observe: observe)
        LayerProfile.measure("layout", "NHWC→NCHW", flops: 0) {
            Layout.transpose(channelsLast.data, rows: plan.outputHeight * plan.outputWidth, columns: head.outChannels,
                             into: plan.output.data)
        }
        return (plan.output, channelsLast)
    }

    /// The features as the backbone computes them, channels-last [1, h, w, C] (one of the arena's buffers: valid
    /// until the next forward on the arena). The classifier's head reads this form directly.
    @discardableResult
    func forwardChannelsLast(_ input: Tensor, plan: Plan, observe: ((String, Tensor) -> Void)? = nil) -> Tensor {
        var b = plan.buffers
        // The stem's output (192×192×32 at 384) is never written out when the first block can take the stem into
        // its depthwise conv; the reference dumps, which look at it, run the stem on its own.
        let fuseStem = observe == nil && (blocks.first?.fusesStem ?? false)
        if !fuseStem {
            stem.forwardChannelsLast(input, into: b[0], workspace: plan.workspace, inputIsNCHW: true)
            observe?("stem", b[0])
        }
        for (i, block) in blocks.enumerated() {
            let from: MBConvBlock.Input = i == 0 && fuseStem ? .stem(stem, image: input) : .tensor(b[0])
            block.forward(from, into: b[1], tmpA: b[2], tmpB: b[3], workspace: plan.workspace, scratch: plan.blockScratch)
            b.swapAt(0, 1)
            if let observe, i + 1 == blocks.count || blocks[i + 1].spec.stage != block.spec.stage {
                observe("stage.\(block.spec.stage + 1)", b[0])
            }
        }
        head.forwardChannelsLast(b[0], into: b[1], workspace: plan.workspace)
        return b[1]
    }
}
