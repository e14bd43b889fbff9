import CEngineKernels
import Engine
import Foundation
@testable import Model
import XCTest

/// Each op on the path production runs, against PyTorch (ggml test-backend-ops style: inputs, parameters and
/// outputs from the fixtures) and against plain loops over random shapes, on every instruction set (`forEachISA`).
/// The backbone runs channels-last on weights packed at load with their NCHW copy freed, the stem reads the NCHW
/// image, and squeeze-excitation is fused into the MBConv block (the pool from the depthwise conv's channel sums,
/// the scale inside the projection's GEMM or on the activations): that is what is tested here, not the NCHW
/// `Conv2d.forward` / `SqueezeExcitation.forward`, which production never calls.
final class OpsTests: XCTestCase {
    // MARK: layouts

    /// NCHW → NHWC, image by image.
    private func channelsLast(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = x.nchw
        let y = Tensor(shape: [n, h, w, c])
        for b in 0..<n { Layout.transpose(x.data + b * c * h * w, rows: c, columns: h * w, into: y.data + b * c * h * w) }
        return y
    }

    /// NHWC → NCHW values, image by image.
    private func nchwValues(_ y: Tensor) -> [Float] {
        let n = y.shape[0], plane = y.shape[1] * y.shape[2], c = y.shape[3]
        var out = [Float](repeating: 0, count: y.count)
        out.withUnsafeMutableBufferPointer { o in
            for b in 0..<n { Layout.transpose(y.data + b * plane * c, rows: plane, columns: c, into: o.baseAddress! + b * plane * c) }
        }
        return out
    }

    // MARK: convolutions against PyTorch

    /// The conv fixtures and the kernel each takes on the channels-last path.
    private static let convFixtures: [(name: String, kind: Conv2d.Kind)] = [
        ("conv1x1", .pointwise),
        ("depthwise_k3_s1", .depthwise), ("depthwise_k3_s2", .depthwise),
        ("depthwise_k5_s1", .depthwise), ("depthwise_k5_s2", .depthwise),
        ("conv3x3_s1", .general), ("conv3x3_s2_batch2", .general), ("conv5x5_s2_nobias", .general), ("conv1x1_s2", .general),
    ]

    /// Every conv fixture through `forwardChannelsLast` on weights prepared as the backbone prepares them (NCHW copy
    /// freed); the general convs also as the stem runs them, reading the NCHW input straight into the unfolded rows.
    func testConvolutionFixturesOnTheChannelsLastPath() throws {
        var checked = 0
        try forEachISA { isa in
            for (name, kind) in Self.convFixtures {
                let f = try Fixtures.open("ops/" + name)
                let x = try f.tensor("input"), w = try f.tensor("weight"), ref = try f.tensor("output")
                let conv = Conv2d(inChannels: x.shape[1], outChannels: w.shape[0], kernelSize: f.int("kernel"),
                                  stride: f.int("stride"), padding: f.int("padding"), groups: f.int("groups"),
                                  weight: w.values, bias: f.entry("bias") != nil ? try f.floats("bias") : nil)
                XCTAssertEqual(conv.kind, kind, name)
                conv.prepareChannelsLast(keepingNCHW: false)
                XCTAssertTrue(conv.weight.isEmpty, "\(name): only the packed weights are left, as in the backbone")
                let (n, _, h, wd) = x.nchw
                let workspace = Workspace(capacity: conv.channelsLastScratchCount(height: h, width: wd))
                let y = Tensor(shape: [n, ref.shape[2], ref.shape[3], ref.shape[1]])
                conv.forwardChannelsLast(channelsLast(x), into: y, workspace: workspace)
                XCTAssertEqual(y.shape, [n, ref.shape[2], ref.shape[3], ref.shape[1]], "\(isa) \(name)")
                XCTAssertClose(nchwValues(y), ref.values, "\(isa) \(name)")
                if kind == .general {
                    let stem = Tensor(shape: y.shape)
                    conv.forwardChannelsLast(x, into: stem, workspace: workspace, inputIsNCHW: true)
                    XCTAssertClose(nchwValues(stem), ref.values, "\(isa) \(name) reading NCHW input (the stem's way)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, Self.convFixtures.count, "at least one instruction set ran every fixture")
    }

    /// torchvision's Conv2dNormActivation (conv, BatchNorm eps 1e-3, SiLU) as the stem is built and run: the
    /// BatchNorm folded at load, the NCHW weights freed, the NCHW input read directly.
    func testConvWithFoldedBatchNormAndSiLUAsTheStemRunsIt() throws {
        let f = try Fixtures.open("ops/conv_bn_silu")
        let x = try f.tensor("input"), w = try f.tensor("weight"), ref = try f.tensor("output")
        let (_, _, h, wd) = x.nchw
        try forEachISA { isa in
            let conv = Conv2d(inChannels: 6, outChannels: 10, kernelSize: 3, stride: f.int("stride"), padding: f.int("padding"),
                              weight: w.values, activation: .silu)
            let bn = BatchNorm(gamma: try f.floats("bn.weight"), beta: try f.floats("bn.bias"),
                               runningMean: try f.floats("bn.running_mean"), runningVar: try f.floats("bn.running_var"),
                               eps: Float(f.metadata["eps"]!)!)
            bn.fold(into: conv)
            conv.prepareChannelsLast(keepingNCHW: false)
            XCTAssertEqual(conv.kind, .general)
            let y = Tensor(shape: [1, ref.shape[2], ref.shape[3], 10])
            conv.forwardChannelsLast(x, into: y, workspace: Workspace(capacity: conv.channelsLastScratchCount(height: h, width: wd)),
                                     inputIsNCHW: true)
            XCTAssertClose(nchwValues(y), ref.values, "\(isa) conv+bn+silu")
        }
    }

    /// Grouped convs other than depthwise (the conv_grouped fixture) have no channels-last kernel
    /// (`prepareChannelsLast` refuses them), so production must never build one: every conv of every committed
    /// backbone is one group or depthwise, holds packed weights, and has freed its NCHW copy (so nothing in
    /// production can be running the NCHW path).
    func testEveryBackboneConvIsOneThatTheChannelsLastKernelsTake() throws {
        let grouped = try Fixtures.open("ops/conv_grouped")
        XCTAssertGreaterThan(grouped.int("groups"), 1, "the fixture is the unsupported case")
        for model in ["tiny_b0", "tiny_lite0", "tiny_b4", "tiny_b5"] {
            let classifier = try FractureClassifier(contentsOf: Fixtures.path("model_\(model).safetensors"))
            let f = classifier.features
            let convs = [f.stem, f.head] + f.blocks.flatMap { [$0.expand, $0.depthwise, $0.project].compactMap { $0 } }
            XCTAssertGreaterThan(convs.count, 10, model)
            for (i, conv) in convs.enumerated() {
                XCTAssertTrue(conv.groups == 1 || conv.kind == .depthwise, "\(model) conv \(i): \(conv.groups) groups")
                XCTAssertTrue(conv.isPacked, "\(model) conv \(i) is packed")
                XCTAssertTrue(conv.weight.isEmpty, "\(model) conv \(i) freed its NCHW weights")
            }
        }
    }

    // MARK: squeeze-excitation, fused

    /// The PyTorch SE fixture (torchvision's SqueezeExcitation, SiLU inside) the way an MBConv block runs it: the
    /// pool from a depthwise conv's channel sums (a 1×1 identity depthwise conv here, so its output is the input),
    /// the excitation kernel, then the scale both ways the block applies it: folded into the projection's GEMM
    /// (an identity 1×1 projection here) and on the activations.
    func testSqueezeExcitationFixtureOnTheFusedPath() throws {
        let f = try Fixtures.open("ops/squeeze_excitation")
        let x = try f.tensor("input"), ref = try f.floats("output")
        let (n, c, h, w) = x.nchw
        XCTAssertEqual(n, 1)
        let se = SqueezeExcitation(channels: c, squeezeChannels: 4, fc1Weight: try f.floats("fc1.weight"),
                                   fc1Bias: try f.floats("fc1.bias"), fc2Weight: try f.floats("fc2.weight"),
                                   fc2Bias: try f.floats("fc2.bias"))
        let identityDepthwise = Conv2d(inChannels: c, outChannels: c, kernelSize: 1, groups: c,
                                       weight: [Float](repeating: 1, count: c))
        XCTAssertEqual(identityDepthwise.kind, .depthwise)
        identityDepthwise.prepareChannelsLast(keepingNCHW: false)
        let identityProjection = Conv2d(inChannels: c, outChannels: c, kernelSize: 1,
                                        weight: (0..<(c * c)).map { $0 / c == $0 % c ? 1 : 0 })
        XCTAssertEqual(identityProjection.kind, .pointwise)
        identityProjection.prepareChannelsLast(keepingNCHW: false)
        forEachISA { isa in
            let t = Tensor(shape: [1, h, w, c])
            var pooled = [Float](repeating: .nan, count: c), scale = pooled
            pooled.withUnsafeMutableBufferPointer {
                identityDepthwise.forwardChannelsLast(channelsLast(x), into: t,
                                                      workspace: Workspace(capacity: identityDepthwise.channelsLastScratchCount(height: h, width: w)),
                                                      channelSums: $0.baseAddress!)
            }
            XCTAssertClose(nchwValues(t), x.values, "\(isa) the identity depthwise conv passes the input through")
            for ch in 0..<c { pooled[ch] /= Float(h * w) }
            pooled.withUnsafeBufferPointer { p in
                scale.withUnsafeMutableBufferPointer { se.excitation(pooled: p.baseAddress!, into: $0.baseAddress!, workspace: Workspace()) }
            }
            let y = Tensor(shape: [1, h, w, c])
            scale.withUnsafeBufferPointer {
                identityProjection.forwardChannelsLast(t, into: y, workspace: Workspace(), inputScale: $0.baseAddress!)
            }
            XCTAssertClose(nchwValues(y), ref, "\(isa) SE scale inside the projection's GEMM")
            scale.withUnsafeBufferPointer { SqueezeExcitation.scaleChannelsLast(t.data, pixels: h * w, channels: c, by: $0.baseAddress!) }
            XCTAssertClose(nchwValues(t), ref, "\(isa) SE scale on the activations")
        }
    }

    /// The excitation kernel (two small products, SiLU then sigmoid) against plain loops over random sizes around
    /// its 16-lane blocks.
    func testExcitationOverRandomSizes() {
        var rng = KernelTestRandom(seed: 29)
        forEachISA { isa in
            for trial in 0..<40 {
                let c = [1, 7, 15, 16, 17, 33, 64, 96, 130, 336][trial % 10]
                let sq = Int.random(in: 1...max(1, c / 2 + 2), using: &rng)
                let w1 = NaiveOps.random(sq * c, &rng, scale: 0.5), b1 = NaiveOps.random(sq, &rng)
                let w2 = NaiveOps.random(c * sq, &rng, scale: 0.5), b2 = NaiveOps.random(c, &rng)
                let pooled = NaiveOps.random(c, &rng, scale: 3)
                let se = SqueezeExcitation(channels: c, squeezeChannels: sq, fc1Weight: w1, fc1Bias: b1, fc2Weight: w2, fc2Bias: b2)
                var scale = [Float](repeating: .nan, count: c)
                pooled.withUnsafeBufferPointer { p in
                    scale.withUnsafeMutableBufferPointer { se.excitation(pooled: p.baseAddress!, into: $0.baseAddress!, workspace: Workspace()) }
                }
                let ref = NaiveOps.excitation(pooled.map(Double.init), w1: w1, b1: b1, w2: w2, b2: b2, squeeze: sq)
                let worst = zip(scale, ref).map { abs(Double($0) - $1) }.max() ?? .infinity
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(isa) excitation c \(c) squeeze \(sq)")
            }
        }
    }

    // MARK: MBConv blocks, as loaded and run

    /// Whole MBConv blocks over random shapes, loaded through the weight reader (BatchNorm folded, weights packed and
    /// their NCHW copy freed as the backbone does) and run by `MBConvBlock.forward`, against torchvision's MBConv in
    /// plain loops: [1×1 expand, BN, act] → k×k depthwise, BN, act → [SE] → 1×1 project, BN → [+ input].
    /// Covers 1×1 GEMMs with and without the SE scale and residual, depthwise 3×3 and 5×5 at strides 1 and 2,
    /// both ways the SE scale is applied, the fused expand → depthwise kernel on a map large enough to take it,
    /// and Lite blocks (ReLU6, no SE).
    func testMBConvBlocksOverRandomShapes() throws {
        var rng = KernelTestRandom(seed: 23)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var taken = (gemmScale: 0, activationScale: 0, fusedExpand: 0, residual: 0, lite: 0)
        try forEachISA { isa in
            for trial in 0..<25 {
                Parallel.threads = [1, 2, 3][trial % 3]
                let lite = trial % 5 == 4, large = trial == 24
                let residual = trial % 3 == 0 && !large
                let ci = large ? 24 : [8, 16, 24, 40][trial % 4]
                let ratio = large ? 4 : [1, 4, 6][(trial / 2) % 3]
                let k = [3, 5][(trial / 3) % 2], stride = residual ? 1 : [2, 1][trial % 2]
                let co = residual ? ci : [16, 24, 32][trial % 3]
                let h = large ? 66 : Int.random(in: 2...17, using: &rng), w = large ? 64 : Int.random(in: 2...17, using: &rng)
                let block = try TestBlock(rng: &rng, ci: ci, ratio: ratio, co: co, kernel: k, stride: stride, lite: lite)
                XCTAssertEqual(block.block.spec.hasResidual, residual)
                let x = NaiveOps.random(h * w * ci, &rng)
                let (ho, wo) = block.block.depthwise.outputSize(height: h, width: w)
                let got = block.run(.tensor(Tensor(shape: [1, h, w, ci], values: x)), height: h, width: w)
                XCTAssertEqual(got.shape, [1, ho, wo, co])
                let ref = block.reference(x.map(Double.init), height: h, width: w)
                let what = "\(isa) block \(ci)→\(ci * ratio)→\(co) k \(k) s \(stride) \(h)×\(w) lite \(lite) threads \(Parallel.threads)"
                NaiveOps.assertClose(got.values, ref, what)
                if block.block.se != nil { if co <= ho * wo { taken.gemmScale += 1 } else { taken.activationScale += 1 } }
                if block.block.expand != nil && block.block.depthwise.fusesExpand(height: h, width: w) { taken.fusedExpand += 1 }
                if residual { taken.residual += 1 }
                if lite { taken.lite += 1 }
            }
        }
        XCTAssertGreaterThan(taken.gemmScale, 0, "the SE scale folded into the projection was exercised")
        XCTAssertGreaterThan(taken.activationScale, 0, "the SE scale on the activations was exercised")
        XCTAssertGreaterThan(taken.fusedExpand, 0, "the fused expand → depthwise kernel was exercised")
        XCTAssertGreaterThan(taken.residual, 0)
        XCTAssertGreaterThan(taken.lite, 0)
    }

    /// The stem (3×3 stride 2 from the NCHW image, BatchNorm folded) into a first block without expansion or
    /// residual, both ways production runs it: fused into the block's depthwise conv (the normal forward), and on
    /// its own then the block (the forward with an observer, or a first block that cannot take it).
    func testStemAndFirstBlockOverRandomShapes() throws {
        var rng = KernelTestRandom(seed: 31)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        try forEachISA { isa in
            for trial in 0..<16 {
                Parallel.threads = [1, 2, 3][trial % 3]
                let lite = trial % 4 == 3
                let c = [16, 24, 32, 40][trial % 4], co = [8, 12, 20][trial % 3]  // never c: no residual
                let k = [3, 5][trial % 2], stride = [1, 2][(trial / 2) % 2]
                let ih = Int.random(in: 5...41, using: &rng), iw = Int.random(in: 5...41, using: &rng)
                let block = try TestBlock(rng: &rng, ci: c, ratio: 1, co: co, kernel: k, stride: stride, lite: lite, stem: true)
                let stem = try XCTUnwrap(block.stem)
                XCTAssertTrue(block.block.fusesStem, "no expansion, no residual")
                let image = NaiveOps.random(3 * ih * iw, &rng)
                let imageTensor = Tensor(shape: [1, 3, ih, iw], values: image)
                let (h, w) = stem.outputSize(height: ih, width: iw)
                let ref = block.reference(block.stemReference(image.map(Double.init), height: ih, width: iw), height: h, width: w)
                let what = "\(isa) stem 3→\(c) \(ih)×\(iw) + block \(c)→\(co) k \(k) s \(stride) lite \(lite) threads \(Parallel.threads)"
                let fused = block.run(.stem(stem, image: imageTensor), height: h, width: w, stemImage: (ih, iw))
                NaiveOps.assertClose(fused.values, ref, what + " fused")
                let stemmed = Tensor(shape: [1, h, w, c])
                stem.forwardChannelsLast(imageTensor, into: stemmed,
                                         workspace: Workspace(capacity: stem.channelsLastScratchCount(height: ih, width: iw)),
                                         inputIsNCHW: true)
                NaiveOps.assertClose(stemmed.values, block.stemReference(image.map(Double.init), height: ih, width: iw),
                                     what + " stem alone")
                let unfused = block.run(.tensor(stemmed), height: h, width: w)
                NaiveOps.assertClose(unfused.values, ref, what + " unfused")
            }
        }
    }

    // MARK: the other ops

    func testActivations() throws {
        let f = try Fixtures.open("ops/activations")
        let x = try f.floats("input")
        for act in [Activation.silu, .relu, .relu6, .sigmoid] {
            var y = x
            y.withUnsafeMutableBufferPointer { act.apply($0.baseAddress!, count: $0.count) }
            XCTAssertClose(y, try f.floats(act.rawValue), act.rawValue)
            // Per element too: the sigmoid tails are tiny but must stay accurate relative to themselves.
            let ref = try f.floats(act.rawValue)
            for i in y.indices { XCTAssertLessThanOrEqual(abs(y[i] - ref[i]), 1e-6 + 1e-5 * abs(ref[i]), "\(act) at \(x[i])") }
        }
        let logits = Array(x.prefix(10)).map { $0 * 0.3 }
        XCTAssertClose(softmax(logits), try f.floats("softmax"), "softmax")
    }

    func testPoolLinearBatchNorm1d() throws {
        let f = try Fixtures.open("ops/pool_linear_bn1d")
        let x = try f.tensor("input")
        let pooled = globalAveragePool(x)
        XCTAssertClose(pooled, try f.floats("pooled"), "avg pool")
        let lin = Linear(inFeatures: 12, outFeatures: 9, weight: try f.floats("linear.weight"), bias: try f.floats("linear.bias"))
        let z = lin(pooled)
        XCTAssertClose(z, try f.floats("linear_out"), "linear (batch 2)")
        let bn = BatchNorm(gamma: try f.floats("bn.weight"), beta: try f.floats("bn.bias"),
                           runningMean: try f.floats("bn.running_mean"), runningVar: try f.floats("bn.running_var"), eps: 1e-5)
        var y = z
        y.withUnsafeMutableBufferPointer { bn.apply(rows: $0.baseAddress!, count: 2) }
        XCTAssertClose(y, try f.floats("output"), "batchnorm1d")
        bn.fold(into: lin)
        XCTAssertClose(lin(pooled), try f.floats("output"), "linear with batchnorm1d folded")
    }

    func testHeadAndGradCAMAgainstAutograd() throws {
        let f = try Fixtures.open("ops/head_gradcam")
        var reader = WeightReader(file: f)
        let features = try f.tensor("features")
        let c = features.shape[1]
        let head = try ClassifierHead(channels: c, classCount: 10, reader: &reader)
        let d = head.forwardDetailed(features: features, maps: .all)
        XCTAssertClose(d.output.logits, try f.floats("logits"), "head logits")
        XCTAssertLessThanOrEqual(maxAbsoluteError(d.output.probabilities, try f.floats("probabilities")), 1e-4)
        XCTAssertClose(d.output.attention.values, try f.floats("attention"), "attention")
        XCTAssertEqual(d.output.predicted, f.int("predicted"))
        // The hand-written backward: spatial mean of dlogit/dF equals autograd's.
        let grad = try f.tensor("feature_grad")
        let refWeights = globalAveragePool(grad)
        let weights = head.camWeights(d, target: d.output.predicted)
        XCTAssertClose(weights, refWeights, "Grad-CAM channel weights")
        let cam = try XCTUnwrap(d.output.gradcam)
        let refCAM = try f.floats("gradcam")
        XCTAssertGreaterThanOrEqual(correlation(cam.values, refCAM), 0.999)
        XCTAssertLessThanOrEqual(maxAbsoluteError(cam.values, refCAM), 1e-4)
        XCTAssertEqual(cam.width, 7); XCTAssertEqual(cam.height, 7)
    }

    func testFastExpAccuracy() {
        var worst: Float = 0
        var x: Float = -80
        while x <= 80 {
            let ref = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(fastExp(x) - ref) / ref)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertTrue(fastExp(1000).isFinite)
        XCTAssertEqual(fastExp(-1000), 0, accuracy: 1e-37)
    }
}
