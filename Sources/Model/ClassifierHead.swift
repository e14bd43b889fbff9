import Basics
import Engine

/// The notebook's head on top of the backbone features F [C, h, w]:
/// attention gate a = sigmoid(conv(relu(conv(F)))) [1, h, w], pooled = mean(F·a), then
/// Linear(C, hidden) → BatchNorm1d (folded) → ReLU → Linear(hidden, classes). Dropout is the identity in eval.
/// It also computes the CAM maps on F (`CAMMethod.all`) from a hand-written backward through this head only.
public final class ClassifierHead {
    public let channels: Int
    public let hidden: Int
    public let classCount: Int
    let gate1: Conv2d
    let gate2: Conv2d
    /// classifier.1 with classifier.2 (BatchNorm1d) folded in.
    let fc1: Linear
    let fc2: Linear
    /// The gate's first conv transposed (C/8 → C): the CAM backward's product [hw, C/8]·[C/8, C] on the engine's
    /// packed kernels. On OpenBLAS's gemm it took about 0.3 of the maps' 1.2 ms a member (under
    /// OPENBLAS_CORETYPE=Prescott its kernels are SSE3 whatever the CPU).
    let gateBackward: Conv2d

    public init(gate1: Conv2d, gate2: Conv2d, fc1: Linear, batchNorm: BatchNorm, fc2: Linear) {
        precondition(gate1.inChannels == fc1.inFeatures && gate2.outChannels == 1 && fc1.outFeatures == fc2.inFeatures)
        channels = gate1.inChannels; hidden = fc1.outFeatures; classCount = fc2.outFeatures
        gate1.activation = .relu
        gate2.activation = .sigmoid
        fc1.activation = .identity  // ReLU is applied by hand: the backward needs the pre-activation
        fc2.activation = .identity
        batchNorm.fold(into: fc1)
        fc1.keepHalfPrecision()  // 1280×512 read once per forward: half the bytes where the file is F16
        let (c, c8) = (gate1.inChannels, gate1.outChannels)
        var transposed = [Float](repeating: 0, count: c * c8)
        for j in 0..<c8 { for k in 0..<c { transposed[k * c8 + j] = gate1.weight[j * c + k] } }
        gateBackward = Conv2d(inChannels: c8, outChannels: c, kernelSize: 1, weight: transposed)
        gateBackward.prepareChannelsLast(keepingNCHW: false)
        self.gate1 = gate1; self.gate2 = gate2; self.fc1 = fc1; self.fc2 = fc2
        gate1.prepareChannelsLast(keepingNCHW: false)  // the gate's big 1×1 conv runs on the backbone's NHWC output
    }

    /// Reads `attention_gate.{0,2}` and `classifier.{1,2,4}` (hidden = 512 as in the notebook).
    convenience init(channels: Int, hidden: Int = 512, classCount: Int, reader: inout WeightReader) throws {
        let c8 = channels / 8
        let g1 = try reader.pointwiseConv("attention_gate.0", inChannels: channels, outChannels: c8, activation: .relu)
        let g2 = try reader.pointwiseConv("attention_gate.2", inChannels: c8, outChannels: 1, activation: .sigmoid)
        let l1 = try reader.linear("classifier.1", inFeatures: channels, outFeatures: hidden)
        let bn = try reader.batchNorm("classifier.2", channels: hidden, eps: 1e-5)
        let l2 = try reader.linear("classifier.4", inFeatures: hidden, outFeatures: classCount)
        self.init(gate1: g1, gate2: g2, fc1: l1, batchNorm: bn, fc2: l2)
    }

    /// Runs the head on the backbone's channels-last features [1, h, w, C]; the CAM maps (for the predicted class)
    /// only when asked.
    public func forward(channelsLast x: Tensor, maps wanted: CAMRequest) -> Prediction {
        forwardDetailed(channelsLast: x, maps: wanted).output
    }

    /// The attention gate alone (sigmoid map at feature resolution) on channels-last features; `forward`
    /// computes it too.
    public func attentionMap(channelsLast x: Tensor) -> FeatureMap {
        let (h, w) = (x.shape[1], x.shape[2])
        return FeatureMap(width: w, height: h, values: attention(x, hidden: gateHidden(x)))
    }

    /// One pass through the head, with the intermediates the backward uses (tests check them against PyTorch).
    struct Pass {
        var output: Prediction
        /// The features, NHWC [1, h, w, C].
        let features: Tensor
        /// The gate's hidden layer after its ReLU, [hw, C/8].
        let gateHidden: [Float]
        /// The gate's sigmoid map, [hw].
        let gate: [Float]
        /// fc1's output before the ReLU (BatchNorm folded).
        let preReLU: [Float]
        let pooled: [Float]
    }

    /// The same on NCHW features [1, C, h, w], transposed first (the tests' PyTorch fixtures are NCHW).
    func forwardDetailed(features f: Tensor, maps wanted: CAMRequest) -> Pass {
        forwardDetailed(channelsLast: Self.channelsLast(f), maps: wanted)
    }

    /// The head reads the backbone's NHWC output as it is: F is [hw, C] row-major, so pooling and the CAM are
    /// matrix-vector products on it, and no NCHW copy is made.
    func forwardDetailed(channelsLast x: Tensor, maps wanted: CAMRequest) -> Pass {
        precondition(x.shape.count == 4 && x.shape[0] == 1 && x.shape[3] == channels,
                     "ClassifierHead: expected [1, h, w, \(channels)], got \(x.shape)")
        let (h, w, c) = (x.shape[1], x.shape[2], channels)
        let hw = h * w
        let g1 = gateHidden(x)
        let gate = attention(x, hidden: g1)
        // pooled[c] = mean_i F[i, c]·a[i]: one matrix-vector product instead of materialising F·a.
        var pooled = [Float](repeating: 0, count: c)
        gate.withUnsafeBufferPointer { a in
            pooled.withUnsafeMutableBufferPointer { p in
                MatrixVector.multiply(transposed: true, m: hw, n: c, a: x.data, x: a.baseAddress!, y: p.baseAddress!)
                for i in 0..<c { p[i] /= Float(hw) }
            }
        }
        let z = fc1(pooled)  // BN folded, before ReLU
        let r = z.map { max($0, 0) }
        let logits = fc2(r)
        let probabilities = softmax(logits)
        let attentionMap = FeatureMap(width: w, height: h, values: gate)
        var pass = Pass(output: Prediction(logits: logits, probabilities: probabilities, attention: attentionMap, gradcam: nil),
                        features: x, gateHidden: g1, gate: gate, preReLU: z, pooled: pooled)
        if !wanted.isEmpty { pass.output.maps = camMaps(pass, target: pass.output.predicted, methods: wanted.methods) }
        return pass
    }

    /// The gate's first 1×1 conv (with its ReLU) on the engine's packed kernels, [hw, C/8].
    private func gateHidden(_ x: Tensor) -> [Float] {
        let (h, w) = (x.shape[1], x.shape[2])
        let hidden = Tensor(shape: [1, h, w, gate1.outChannels])
        gate1.forwardChannelsLast(x, into: hidden, workspace: Workspace())
        return hidden.values
    }

    /// The gate's second 1×1 conv (C/8 → 1) and its sigmoid, [hw].
    private func attention(_ x: Tensor, hidden: [Float]) -> [Float] {
        let hw = x.shape[1] * x.shape[2], c8 = gate1.outChannels
        var gate = [Float](repeating: 0, count: hw)
        hidden.withUnsafeBufferPointer { hp in
            gate2.weight.withUnsafeBufferPointer { w2 in
                gate.withUnsafeMutableBufferPointer { g in
                    MatrixVector.multiply(m: hw, n: c8, a: hp.baseAddress!, x: w2.baseAddress!, y: g.baseAddress!)
                    gate2.activation.apply(g.baseAddress!, count: hw, bias: gate2.bias[0])
                }
            }
        }
        return gate
    }

    /// NCHW [1, C, h, w] → NHWC [1, h, w, C].
    static func channelsLast(_ f: Tensor) -> Tensor {
        let (_, c, h, w) = f.nchw
        let x = Tensor(shape: [1, h, w, c])
        Layout.transpose(f.data, rows: c, columns: h * w, into: x.data)
        return x
    }

    /// The requested CAM methods' maps (all the registry's unless said) for logit `target`, from one backward
    /// through the head.
    func camMaps(_ pass: Pass, target: Int, methods: [CAMMethod] = CAMMethod.all) -> [String: FeatureMap] {
        let inputs = camInputs(pass, target: target)
        return Dictionary(uniqueKeysWithValues: methods.map { ($0.id, $0.map(inputs)) })
    }

    /// The Grad-CAM channel weights: the spatial mean of d logit[target] / dF (the tests compare them with PyTorch).
    func camWeights(_ pass: Pass, target: Int) -> [Float] { camInputs(pass, target: target).meanGradient() }

    private func camInputs(_ pass: Pass, target: Int) -> CAMInputs {
        let x = pass.features
        return CAMInputs(width: x.shape[2], height: x.shape[1], channels: channels, features: UnsafePointer(x.data),
                         gradient: gradient(pass, target: target))
    }

    /// G = d logit[target] / dF, [hw, C] row-major: the backward through the head only, as matrix products.
    ///   dp = fc1ᵀ·(fc2[target] ⊙ [z > 0])                         (gradient wrt the pooled vector)
    ///   direct path:  G[i, c] += dp[c]·a[i]/hw
    ///   gate path:    da[i] = Σ_c dp[c]·F[i, c]/hw, dpre2 = da·a(1−a), dpre1[i, j] = W2[j]·dpre2[i]·[g1[i, j] > 0]
    ///                 G[i, c] += Σ_j dpre1[i, j]·W1[j, c]            (a GEMM [hw, C/8]·[C/8, C])
    func gradient(_ pass: Pass, target: Int) -> [Float] {
        let x = pass.features, gate = pass.gate, g1 = pass.gateHidden, z = pass.preReLU
        let hw = x.shape[1] * x.shape[2], c = channels, c8 = gate1.outChannels
        var dz = [Float](repeating: 0, count: hidden)
        fc2.weight.withUnsafeBufferPointer { w2 in
            for j in 0..<hidden { dz[j] = z[j] > 0 ? w2[target * hidden + j] : 0 }
        }
        let dp = fc1.backward(outputGradient: dz)
        var da = [Float](repeating: 0, count: hw)
        dp.withUnsafeBufferPointer { dpp in
            da.withUnsafeMutableBufferPointer { MatrixVector.multiply(m: hw, n: c, a: x.data, x: dpp.baseAddress!, y: $0.baseAddress!) }
        }
        var dpre1 = [Float](repeating: 0, count: hw * c8)
        let w2 = gate2.weight
        for i in 0..<hw {
            let a = gate[i]
            let dpre2 = da[i] / Float(hw) * a * (1 - a)
            for j in 0..<c8 where g1[i * c8 + j] > 0 { dpre1[i * c8 + j] = w2[j] * dpre2 }
        }
        let (h, w) = (x.shape[1], x.shape[2])
        let direct = Tensor(shape: [1, h, w, c])
        for i in 0..<hw {
            let scale = gate[i] / Float(hw)
            for ch in 0..<c { direct.data[i * c + ch] = dp[ch] * scale }
        }
        let g = Tensor(shape: [1, h, w, c])
        gateBackward.forwardChannelsLast(Tensor(shape: [1, h, w, c8], values: dpre1), into: g, workspace: Workspace(),
                                         residual: direct)
        return g.values
    }
}
