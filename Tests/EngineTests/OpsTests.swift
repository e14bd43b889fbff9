import Engine
import Foundation
@testable import Model
import XCTest

/// Each op against PyTorch (ggml test-backend-ops style): inputs, parameters and outputs from the fixtures.
final class OpsTests: XCTestCase {
    private func checkConv(_ name: String, expectKind: Conv2d.Kind) throws {
        let f = try Fixtures.open("ops/" + name)
        let x = try f.tensor("input"), w = try f.tensor("weight"), ref = try f.tensor("output")
        let k = f.int("kernel"), groups = f.int("groups")
        let conv = Conv2d(inChannels: x.shape[1], outChannels: w.shape[0], kernelSize: k, stride: f.int("stride"),
                          padding: f.int("padding"), groups: groups, weight: w.values,
                          bias: f.entry("bias") != nil ? try f.floats("bias") : nil)
        XCTAssertEqual(conv.kind, expectKind, name)
        let y = conv(x)
        XCTAssertEqual(y.shape, ref.shape, name)
        XCTAssertClose(y.values, ref.values, name)
    }

    func testGeneralConvolutions() throws {
        try checkConv("conv3x3_s1", expectKind: .general)
        try checkConv("conv3x3_s2_batch2", expectKind: .general)
        try checkConv("conv5x5_s2_nobias", expectKind: .general)
        try checkConv("conv_grouped", expectKind: .general)
        try checkConv("conv1x1_s2", expectKind: .general)
    }

    func testPointwiseConvolution() throws { try checkConv("conv1x1", expectKind: .pointwise) }

    func testDepthwiseConvolutions() throws {
        for k in [3, 5] { for s in [1, 2] { try checkConv("depthwise_k\(k)_s\(s)", expectKind: .depthwise) } }
    }

    func testBatchNormFoldedIntoConvWithSiLU() throws {
        let f = try Fixtures.open("ops/conv_bn_silu")
        let x = try f.tensor("input"), w = try f.tensor("weight"), ref = try f.tensor("output")
        let conv = Conv2d(inChannels: 6, outChannels: 10, kernelSize: 3, stride: 2, padding: 1, weight: w.values,
                          activation: .silu)
        let bn = BatchNorm(gamma: try f.floats("bn.weight"), beta: try f.floats("bn.bias"),
                           runningMean: try f.floats("bn.running_mean"), runningVar: try f.floats("bn.running_var"),
                           eps: Float(f.metadata["eps"]!)!)
        bn.fold(into: conv)
        XCTAssertClose(conv(x).values, ref.values, "conv+bn+silu")
    }

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

    func testSqueezeExcitation() throws {
        let f = try Fixtures.open("ops/squeeze_excitation")
        let x = try f.tensor("input")
        let se = SqueezeExcitation(channels: 16, squeezeChannels: 4, fc1Weight: try f.floats("fc1.weight"),
                                   fc1Bias: try f.floats("fc1.bias"), fc2Weight: try f.floats("fc2.weight"),
                                   fc2Bias: try f.floats("fc2.bias"))
        se.forward(x, workspace: Workspace())
        XCTAssertClose(x.values, try f.floats("output"), "squeeze-excitation")
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
        let d = head.forwardDetailed(features: features, gradcam: true)
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
