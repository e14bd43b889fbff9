import Engine

/// torchvision's MBConv: [1×1 expand] → k×k depthwise → [squeeze-excitation] → 1×1 project, plus the residual
/// when shape allows. Stochastic depth is the identity in eval.
final class MBConvBlock {
    let spec: MBConvSpec
    let expand: Conv2d?
    let depthwise: Conv2d
    let se: SqueezeExcitation?
    let project: Conv2d

    /// Reads `prefix.block.N…` (torchvision layout; Lite files simply lack the SE entry, so indices shift down).
    init(spec: MBConvSpec, prefix: String, config: EfficientNetConfig, reader: inout WeightReader) throws {
        self.spec = spec
        let act = config.activation, eps = config.bnEps
        var i = 0
        if spec.hasExpansion {
            expand = try reader.convBN("\(prefix).block.\(i)", inChannels: spec.inChannels, outChannels: spec.expandedChannels,
                                       kernel: 1, eps: eps, activation: act)
            i += 1
        } else {
            expand = nil
        }
        let e = spec.expandedChannels
        depthwise = try reader.convBN("\(prefix).block.\(i)", inChannels: e, outChannels: e, kernel: spec.kernel,
                                      stride: spec.stride, groups: e, eps: eps, activation: act)
        i += 1
        if let sq = spec.squeezeChannels {
            let p = "\(prefix).block.\(i)"
            se = SqueezeExcitation(
                channels: e, squeezeChannels: sq,
                fc1Weight: try reader.tensor("\(p).fc1.weight", shape: [sq, e, 1, 1]),
                fc1Bias: try reader.tensor("\(p).fc1.bias", shape: [sq]),
                fc2Weight: try reader.tensor("\(p).fc2.weight", shape: [e, sq, 1, 1]),
                fc2Bias: try reader.tensor("\(p).fc2.bias", shape: [e]), activation: .silu)
            i += 1
        } else {
            se = nil
        }
        project = try reader.convBN("\(prefix).block.\(i)", inChannels: e, outChannels: spec.outChannels, kernel: 1,
                                    eps: eps, activation: .identity)
        if keepsRowsOnEachCore {
            for conv in [expand, depthwise, project].compactMap({ $0 }) {
                conv.rowSplitMinimum = MBConvBlock.localRowSplitPixels
            }
        }
    }

    /// Whether the block's three convs split a 7×7 map's rows over the cores rather than its channels, so that each
    /// core reads, from the expansion through the depthwise conv to the projection, the rows it wrote itself. Split
    /// by channels, the depthwise conv wrote over lines the projection before it had read on both cores: Lite0's
    /// 7×7 5×5 depthwise layers took 0.06–0.08 ms on two threads, 0.03–0.036 split by rows (Intel Xeon, two
    /// vCPUs). Only where each 1×1 conv's weights are small (≤ 256 K, 0.5 MB in half precision), because a row split
    /// has each core read all of them: B4's 7×7 blocks (0.9–2.4 MB) were 7 % slower split by rows.
    var keepsRowsOnEachCore: Bool {
        let limit = 256 * 1024
        return [expand, project].allSatisfy { conv in conv.map { $0.inChannels * $0.outChannels <= limit } ?? true }
    }

    /// The fewest pixels on which a block that keeps rows on each core splits them: a 7×7 map's 49.
    static let localRowSplitPixels = 48

    /// x → out (NHWC, batch 1), using tmpA/tmpB as intermediates. All four tensors are distinct.
    /// SE is fused: the depthwise conv also returns its channel sums (the SE pool), and the SE scale is applied
    /// either to the projection's packed weights or to the activations, whichever is fewer multiplications.
    func forward(_ x: Tensor, into out: Tensor, tmpA: Tensor, tmpB: Tensor, workspace: Workspace, scratch: Scratch) {
        forward(.tensor(x), into: out, tmpA: tmpA, tmpB: tmpB, workspace: workspace, scratch: scratch)
    }

    /// What the block reads: its input, or (the first block, when `fusesStem`) the image and the stem that
    /// would have made its input, fused into the depthwise conv.
    enum Input {
        case tensor(Tensor)
        case stem(Conv2d, image: Tensor)
    }

    /// Whether the stem can be fused into this block: the block starts with its depthwise conv (no expansion) and
    /// has no residual (which would need the stem's output).
    var fusesStem: Bool { expand == nil && !spec.hasResidual }

    func forward(_ input: Input, into out: Tensor, tmpA: Tensor, tmpB: Tensor, workspace: Workspace, scratch: Scratch) {
        let sums = se == nil ? nil : scratch.sums
        let x: Tensor
        switch input {
        case .tensor(let t): x = t
        case .stem(let stem, let image):
            precondition(fusesStem, "MBConvBlock: the stem fuses only into a block without expansion or residual")
            depthwise.forwardChannelsLast(fusingStem: stem, image: image, into: tmpB, workspace: workspace, channelSums: sums)
            finish(tmpB, residual: nil, into: out, workspace: workspace, scratch: scratch)
            return
        }
        if let expand, depthwise.fusesExpand(height: x.shape[1], width: x.shape[2]) {
            // Large maps: the expanded tensor is never written out (Conv2d.forwardChannelsLast(fusingExpand:)).
            depthwise.forwardChannelsLast(fusingExpand: expand, x, into: tmpB, workspace: workspace, channelSums: sums)
        } else if let expand {
            expand.forwardChannelsLast(x, into: tmpA, workspace: workspace)
            depthwise.forwardChannelsLast(tmpA, into: tmpB, workspace: workspace, channelSums: sums)
        } else {
            depthwise.forwardChannelsLast(x, into: tmpB, workspace: workspace, channelSums: sums)
        }
        finish(tmpB, residual: spec.hasResidual ? x : nil, into: out, workspace: workspace, scratch: scratch)
    }

    /// After the depthwise conv (in `tmpB`): squeeze-excitation, then the projection with the residual.
    private func finish(_ tmpB: Tensor, residual: Tensor?, into out: Tensor, workspace: Workspace, scratch: Scratch) {
        guard let se else {
            project.forwardChannelsLast(tmpB, into: out, workspace: workspace, residual: residual)
            return
        }
        let e = spec.expandedChannels
        let plane = tmpB.shape[1] * tmpB.shape[2]
        LayerProfile.measure("squeeze-excitation", "\(e)→\(se.squeezeChannels)→\(e)",
                             flops: 4 * Double(e * se.squeezeChannels)) {
            for c in 0..<e { scratch.sums[c] /= Float(plane) }
            se.excitation(pooled: scratch.sums, into: scratch.scale, workspace: workspace)
        }
        if spec.outChannels <= plane {
            project.forwardChannelsLast(tmpB, into: out, workspace: workspace, residual: residual, inputScale: scratch.scale)
        } else {
            SqueezeExcitation.scaleChannelsLast(tmpB.data, pixels: plane, channels: e, by: scratch.scale)
            project.forwardChannelsLast(tmpB, into: out, workspace: workspace, residual: residual)
        }
    }

    /// Per-block vectors (SE sums and scales), sized for the widest block.
    final class Scratch {
        let sums: UnsafeMutablePointer<Float>
        let scale: UnsafeMutablePointer<Float>
        init(channels: Int) {
            sums = .allocate(capacity: max(channels, 1)); scale = .allocate(capacity: max(channels, 1))
        }
        deinit { sums.deallocate(); scale.deallocate() }
    }
}
