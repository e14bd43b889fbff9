import Engine
import Foundation
@testable import Model
import XCTest

/// Plain-loop references in Double for the ops tests: PyTorch's convolution (cross-correlation, zero padding
/// (k − 1) / 2, groups 1 or depthwise) on NHWC values, BatchNorm in eval, the activations, and torchvision's
/// squeeze-excitation. Nothing here calls the engine.
enum NaiveOps {
    static func random(_ n: Int, _ rng: inout KernelTestRandom, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) }
    }

    static func activate(_ v: Double, _ act: Activation) -> Double {
        switch act {
        case .identity: return v
        case .relu: return max(v, 0)
        case .relu6: return min(max(v, 0), 6)
        case .silu: return v / (1 + Foundation.exp(-v))
        case .sigmoid: return 1 / (1 + Foundation.exp(-v))
        }
    }

    /// NHWC [h, w, c] → [ho, wo, out]; `weight` in PyTorch's [out, c (or 1), k, k] order.
    static func conv(_ x: [Double], height h: Int, width w: Int, channels c: Int, weight: [Float], out: Int, kernel k: Int,
                     stride: Int, depthwise: Bool) -> (values: [Double], height: Int, width: Int) {
        precondition(x.count == h * w * c && (!depthwise || out == c))
        let pad = (k - 1) / 2
        let ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1
        var y = [Double](repeating: 0, count: ho * wo * out)
        for oy in 0..<ho { for ox in 0..<wo { for o in 0..<out {
            var s = 0.0
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
                let px = (iy * w + ix) * c
                if depthwise {
                    s += Double(weight[(o * k + ky) * k + kx]) * x[px + o]
                } else {
                    for i in 0..<c { s += Double(weight[((o * c + i) * k + ky) * k + kx]) * x[px + i] }
                }
            } }
            y[(oy * wo + ox) * out + o] = s
        } } }
        return (y, ho, wo)
    }

    /// BatchNorm (eval) then the activation, channels innermost.
    static func batchNorm(_ y: inout [Double], _ p: TestBlock.ConvBN, eps: Double, _ act: Activation) {
        let c = p.gamma.count
        for i in y.indices {
            let o = i % c
            let normalised = (y[i] - Double(p.mean[o])) / (Double(p.variance[o]) + eps).squareRoot()
            y[i] = activate(normalised * Double(p.gamma[o]) + Double(p.beta[o]), act)
        }
    }

    /// torchvision's SqueezeExcitation scale from the per-channel means: sigmoid(fc2(silu(fc1(pooled)))).
    static func excitation(_ pooled: [Double], w1: [Float], b1: [Float], w2: [Float], b2: [Float], squeeze sq: Int) -> [Double] {
        let c = pooled.count
        let hidden = (0..<sq).map { j in
            activate((0..<c).reduce(Double(b1[j])) { $0 + Double(w1[j * c + $1]) * pooled[$1] }, .silu)
        }
        return (0..<c).map { ch in
            activate((0..<sq).reduce(Double(b2[ch])) { $0 + Double(w2[ch * sq + $1]) * hidden[$1] }, .sigmoid)
        }
    }

    /// Compares with a tolerance relative to the reference's largest magnitude (at least 1).
    static func assertClose(_ got: [Float], _ ref: [Double], _ what: String, tolerance: Double = 1e-4,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, ref.count, "\(what): size", file: file, line: line)
        guard got.count == ref.count else { return }
        let scale = max(1, ref.map(abs).max() ?? 0)
        let worst = zip(got, ref).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst / scale, tolerance, "\(what): max error \(worst) at scale \(scale)", file: file, line: line)
        XCTAssertFalse(got.contains { !$0.isFinite }, "\(what): non-finite output", file: file, line: line)
    }
}

/// One MBConv block (and, when asked, a stem before it) with random weights and BatchNorm statistics, written to a
/// safetensors file and loaded the way a model is: `WeightReader.convBN` folds each BatchNorm, `MBConvBlock` reads
/// the block in torchvision's layout, and every conv is packed with its NCHW copy freed, as `EfficientNetFeatures`
/// does. The raw parameters are kept for the plain-loop reference.
final class TestBlock {
    struct ConvBN {
        let weight: [Float]
        let gamma: [Float], beta: [Float], mean: [Float], variance: [Float]
    }

    let config: EfficientNetConfig
    let block: MBConvBlock
    let stem: Conv2d?
    private let expand: ConvBN?, depthwise: ConvBN, project: ConvBN, stemRaw: ConvBN?
    private let se: (w1: [Float], b1: [Float], w2: [Float], b2: [Float])?
    var spec: MBConvSpec { block.spec }

    init(rng: inout KernelTestRandom, ci: Int, ratio: Int, co: Int, kernel k: Int, stride: Int, lite: Bool,
         stem withStem: Bool = false) throws {
        config = try XCTUnwrap(EfficientNetConfig.named(lite ? "efficientnet_lite0" : "efficientnet_b0"))
        let e = ci * ratio, sq: Int? = lite ? nil : max(1, ci / 4)
        let spec = MBConvSpec(stage: 0, indexInStage: 0, inChannels: ci, expandedChannels: e, outChannels: co, kernel: k,
                              stride: stride, squeezeChannels: sq)
        var writer = SafeTensorsWriter()
        func convBN(_ prefix: String, shape: [Int]) -> ConvBN {
            let out = shape[0], fanIn = shape.dropFirst().reduce(1, *)
            let p = ConvBN(weight: NaiveOps.random(out * fanIn, &rng, scale: 1.5 / Float(fanIn).squareRoot()),
                           gamma: (0..<out).map { _ in Float.random(in: 0.5...1.5, using: &rng) },
                           beta: NaiveOps.random(out, &rng, scale: 0.3), mean: NaiveOps.random(out, &rng, scale: 0.5),
                           variance: (0..<out).map { _ in Float.random(in: 0.3...2, using: &rng) })
            writer.add("\(prefix).0.weight", shape: shape, values: p.weight)
            writer.add("\(prefix).1.weight", shape: [out], values: p.gamma)
            writer.add("\(prefix).1.bias", shape: [out], values: p.beta)
            writer.add("\(prefix).1.running_mean", shape: [out], values: p.mean)
            writer.add("\(prefix).1.running_var", shape: [out], values: p.variance)
            return p
        }
        var i = 0
        if ratio != 1 { expand = convBN("blk.block.0", shape: [e, ci, 1, 1]); i += 1 } else { expand = nil }
        depthwise = convBN("blk.block.\(i)", shape: [e, 1, k, k])
        i += 1
        if let sq {
            let p = (w1: NaiveOps.random(sq * e, &rng, scale: 1 / Float(e).squareRoot()), b1: NaiveOps.random(sq, &rng),
                     w2: NaiveOps.random(e * sq, &rng, scale: 1.5 / Float(sq).squareRoot()), b2: NaiveOps.random(e, &rng))
            writer.add("blk.block.\(i).fc1.weight", shape: [sq, e, 1, 1], values: p.w1)
            writer.add("blk.block.\(i).fc1.bias", shape: [sq], values: p.b1)
            writer.add("blk.block.\(i).fc2.weight", shape: [e, sq, 1, 1], values: p.w2)
            writer.add("blk.block.\(i).fc2.bias", shape: [e], values: p.b2)
            se = p
            i += 1
        } else {
            se = nil
        }
        project = convBN("blk.block.\(i)", shape: [co, e, 1, 1])
        stemRaw = withStem ? convBN("stem", shape: [ci, 3, 3, 3]) : nil

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-block-\(UUID().uuidString).safetensors").path
        try writer.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = WeightReader(file: try SafeTensorsFile(path: path))
        block = try MBConvBlock(spec: spec, prefix: "blk", config: config, reader: &reader)
        stem = withStem ? try reader.convBN("stem", inChannels: 3, outChannels: ci, kernel: 3, stride: 2, eps: config.bnEps,
                                            activation: config.activation) : nil
        for conv in [block.expand, block.depthwise, block.project, stem].compactMap({ $0 }) {
            conv.prepareChannelsLast(keepingNCHW: false)
        }
        XCTAssertEqual(block.se != nil, sq != nil)
    }

    /// `MBConvBlock.forward` on `input` (the block's input map is height × width; `stemImage` the image's size when
    /// the stem is fused), with the scratch sized as `EfficientNetFeatures.Plan` sizes it. Returns the output.
    func run(_ input: MBConvBlock.Input, height h: Int, width w: Int, stemImage: (height: Int, width: Int)? = nil) -> Tensor {
        let capacity = max(spec.inChannels, spec.expandedChannels, spec.outChannels) * h * w
        // Centred, as the arena's buffers are: the kernels read and write them away from the storage's start.
        let out = Tensor(shape: [0], capacity: capacity, centred: true),
            tmpA = Tensor(shape: [0], capacity: capacity, centred: true),
            tmpB = Tensor(shape: [0], capacity: capacity, centred: true)
        var scratch = max(block.depthwise.channelsLastScratchCount(height: h, width: w),
                          block.depthwise.fusedExpandScratchCount(height: h, width: w),
                          block.project.channelsLastScratchCount(height: h, width: w), block.se?.scratchCount ?? 0)
        if let e = block.expand { scratch = max(scratch, e.channelsLastScratchCount(height: h, width: w)) }
        if let stem, let image = stemImage {
            scratch = max(scratch, stem.channelsLastScratchCount(height: image.height, width: image.width),
                          block.depthwise.fusedStemScratchCount(stem: stem, height: h, width: w))
        }
        let workspace = Workspace(capacity: scratch)
        block.forward(input, into: out, tmpA: tmpA, tmpB: tmpB, workspace: workspace,
                      scratch: MBConvBlock.Scratch(channels: spec.expandedChannels))
        return out
    }

    /// torchvision's MBConv on NHWC `x` (height × width × inChannels), in Double.
    func reference(_ x: [Double], height h: Int, width w: Int) -> [Double] {
        let eps = config.bnEps, act = config.activation, e = spec.expandedChannels
        var t = x
        if let expand {
            t = NaiveOps.conv(x, height: h, width: w, channels: spec.inChannels, weight: expand.weight, out: e, kernel: 1,
                              stride: 1, depthwise: false).values
            NaiveOps.batchNorm(&t, expand, eps: eps, act)
        }
        let d = NaiveOps.conv(t, height: h, width: w, channels: e, weight: depthwise.weight, out: e, kernel: spec.kernel,
                              stride: spec.stride, depthwise: true)
        var u = d.values
        NaiveOps.batchNorm(&u, depthwise, eps: eps, act)
        if let se, let sq = spec.squeezeChannels {
            let plane = d.height * d.width
            var pooled = [Double](repeating: 0, count: e)
            for p in 0..<plane { for c in 0..<e { pooled[c] += u[p * e + c] } }
            let scale = NaiveOps.excitation(pooled.map { $0 / Double(plane) }, w1: se.w1, b1: se.b1, w2: se.w2, b2: se.b2,
                                            squeeze: sq)
            for i in u.indices { u[i] *= scale[i % e] }
        }
        var y = NaiveOps.conv(u, height: d.height, width: d.width, channels: e, weight: project.weight, out: spec.outChannels,
                              kernel: 1, stride: 1, depthwise: false).values
        NaiveOps.batchNorm(&y, project, eps: eps, .identity)
        if spec.hasResidual { for i in y.indices { y[i] += x[i] } }
        return y
    }

    /// The stem (3×3 stride 2, BatchNorm, the model's activation) on an NCHW [3, height, width] image, NHWC out.
    func stemReference(_ image: [Double], height h: Int, width w: Int) -> [Double] {
        guard let stemRaw else { preconditionFailure("TestBlock: made without a stem") }
        var nhwc = [Double](repeating: 0, count: image.count)
        for c in 0..<3 { for p in 0..<(h * w) { nhwc[p * 3 + c] = image[c * h * w + p] } }
        var y = NaiveOps.conv(nhwc, height: h, width: w, channels: 3, weight: stemRaw.weight, out: spec.inChannels, kernel: 3,
                              stride: 2, depthwise: false).values
        NaiveOps.batchNorm(&y, stemRaw, eps: config.bnEps, config.activation)
        return y
    }
}
