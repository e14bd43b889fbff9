import Engine
@testable import Model
import XCTest

/// Layer by layer against PyTorch (the llm.c way): tiny FractureClassifiers with the B4 and the B5 block tables
/// (B5 with BatchNorm eps 1e-3), one X-ray at 96×96, and PyTorch's stem, stage, features, gate, pooled and logits
/// dumps (scripts/fixtures/make_activation_dumps.py). The first tensor that differs names the layer at fault.
/// Each model also runs the forward production makes (no observer): for tiny_b4_fused, whose first block takes
/// the stem into its depthwise conv as the real B4's does, that is the fused stem kernel, which an observed run
/// never reaches. Also a finite-difference check of the Grad-CAM channel weights.
final class ActivationDumpTests: XCTestCase {
    /// NHWC [1, h, w, c] → NCHW values.
    private func nchw(_ t: Tensor) -> [Float] {
        let h = t.shape[1], w = t.shape[2], c = t.shape[3]
        var out = [Float](repeating: 0, count: c * h * w)
        out.withUnsafeMutableBufferPointer { Layout.transpose(t.data, rows: h * w, columns: c, into: $0.baseAddress!) }
        return out
    }

    /// max |a − ref| / max |ref|, the ops tests' measure.
    private func relativeError(_ a: [Float], _ ref: [Float]) -> Float {
        let scale = max(ref.map(abs).max() ?? 0, 1e-6)
        return zip(a, ref).map { abs($0 - $1) }.max().map { $0 / scale } ?? .infinity
    }

    /// `fusesStem`: whether production fuses this model's stem into its first block (the 0.25-wide models' first
    /// block has a residual, so their stem always runs on its own; tiny_b4_fused's has none).
    private func check(_ name: String, fusesStem: Bool) throws {
        let classifier = try FractureClassifier(contentsOf: Fixtures.path("model_\(name).safetensors"))
        let dumps = try Fixtures.open("activations_\(name)")
        let input = try dumps.tensor("input")
        let stages = Int(dumps.metadata["stages"] ?? "") ?? 0
        XCTAssertEqual(stages, 7, "\(name): seven stages dumped")
        var seen = [String: [Float]]()
        let x = Tensor(shape: [1] + input.shape, values: input.values)
        let features = classifier.backbone(x) { label, t in seen[label] = self.nchw(t) }
        XCTAssertEqual(Set(seen.keys), Set(["stem"] + (1...stages).map { "stage.\($0)" }), "\(name): every layer observed")
        for label in ["stem"] + (1...stages).map({ "stage.\($0)" }) {
            let ref = try dumps.floats(label)
            let got = try XCTUnwrap(seen[label], label)
            XCTAssertEqual(got.count, ref.count, "\(name) \(label) size")
            // Errors grow with depth through ~30 blocks of float32; 1e-4 of the tensor's largest magnitude holds.
            XCTAssertLessThanOrEqual(relativeError(got, ref), 1e-4, "\(name) \(label)")
        }
        XCTAssertLessThanOrEqual(relativeError(features.values, try dumps.floats("features")), 1e-4, "\(name) features")
        let observed = features.values

        let first = try XCTUnwrap(classifier.features.blocks.first)
        XCTAssertEqual(first.fusesStem, fusesStem, "\(name): whether production fuses the stem into the first block")
        if first.fusesStem { try checkFusedStem(name, classifier: classifier, dumps: dumps, input: x) }

        // The forward `FractureClassifier.run` makes (no observer) and the channels-last head it feeds.
        let channelsLast = classifier.backboneChannelsLast(x)
        let production = nchw(channelsLast), featuresRef = try dumps.floats("features")
        XCTAssertEqual(production.count, featuresRef.count, "\(name) features size")
        XCTAssertLessThanOrEqual(relativeError(production, featuresRef), 1e-4, "\(name) features, production forward")
        if !first.fusesStem {
            // The stem runs on its own in production too: the observed run above was production's path.
            XCTAssertEqual(production, observed, "\(name): the production forward is the observed one")
        }
        let d = classifier.head.forwardDetailed(channelsLast: channelsLast, maps: .none)
        XCTAssertLessThanOrEqual(relativeError(d.gate, try dumps.floats("gate")), 1e-4, "\(name) gate")
        XCTAssertLessThanOrEqual(relativeError(d.pooled, try dumps.floats("pooled")), 1e-4, "\(name) pooled")
        XCTAssertLessThanOrEqual(relativeError(d.output.logits, try dumps.floats("logits")), 1e-4, "\(name) logits")
    }

    /// An observer turns stem fusion off (it looks at the stem's output, which the fused kernel never writes), so
    /// the per-layer run computes the stem on its own. Production fuses it into the first block's depthwise conv:
    /// that path against the same dumps at stage 1, the first layer the fused kernel's result reaches (run block
    /// by block as `EfficientNetFeatures.forwardChannelsLast` runs it); `check` then compares the features, gate,
    /// pooled vector and logits of the production forward.
    private func checkFusedStem(_ name: String, classifier: FractureClassifier, dumps: SafeTensorsFile, input x: Tensor) throws {
        let f = classifier.features
        let first = try XCTUnwrap(f.blocks.first)
        XCTAssertTrue(first.fusesStem, "\(name): the first block takes the stem, so production never writes the stem's output")

        let plan = f.makePlan(height: x.shape[2], width: x.shape[3], arena: ActivationArena())
        var b = plan.buffers
        XCTAssertTrue(b.allSatisfy(\.centred), "the arena's buffers are centred (each core keeps its half)")
        let stage1 = f.blocks.enumerated().filter { $0.element.spec.stage == first.spec.stage }
        XCTAssertFalse(stage1.isEmpty)
        for (i, block) in stage1 {
            block.forward(i == 0 ? .stem(f.stem, image: x) : .tensor(b[0]), into: b[1], tmpA: b[2], tmpB: b[3],
                          workspace: plan.workspace, scratch: plan.blockScratch)
            b.swapAt(0, 1)
        }
        let stage = nchw(b[0]), stageRef = try dumps.floats("stage.1")
        XCTAssertEqual(stage.count, stageRef.count, "\(name) stage.1 size")
        XCTAssertLessThanOrEqual(relativeError(stage, stageRef), 1e-4, "\(name) stage.1 through the fused stem")
    }

    func testTinyB4LayerByLayer() throws { try check("tiny_b4", fusesStem: false) }

    func testTinyB5WithEps1e3LayerByLayer() throws { try check("tiny_b5", fusesStem: false) }

    /// The fused stem against PyTorch: stage 1, the features and the head's outputs of the production forward.
    func testTinyB4WithTheFusedStemLayerByLayer() throws { try check("tiny_b4_fused", fusesStem: true) }

    /// The hand-written backward against central differences: weight[c] is the spatial mean of dlogit/dF[c, ·],
    /// so shifting the whole of channel c by ±ε moves the logit by ≈ ±ε·hw·weight[c]. Checked on the channels with
    /// the largest weights (where a wrong sign or factor shows), in Double-free float32 with a tolerance to match.
    func testGradCAMWeightsMatchFiniteDifferences() throws {
        let classifier = try FractureClassifier(contentsOf: Fixtures.path("model_tiny_b4.safetensors"))
        let dumps = try Fixtures.open("activations_tiny_b4")
        let input = try dumps.tensor("input")
        let features = classifier.backbone(Tensor(shape: [1] + input.shape, values: input.values))
        let f = Tensor(shape: features.shape, values: features.values)
        let (_, c, h, w) = f.nchw
        let hw = h * w
        let head = classifier.head
        let d = head.forwardDetailed(features: f, maps: .none)
        let target = d.output.predicted
        let weights = head.camWeights(d, target: target)
        XCTAssertEqual(weights.count, c)
        let scale = f.values.map(abs).max() ?? 1
        let eps = 1e-3 * scale
        let channels = weights.indices.sorted { abs(weights[$0]) > abs(weights[$1]) }.prefix(8)
        for ch in channels {
            func logit(_ delta: Float) -> Float {
                let g = Tensor(shape: f.shape, values: f.values)
                for i in 0..<hw { g.data[ch * hw + i] += delta }
                return head.forwardDetailed(features: g, maps: .none).output.logits[target]
            }
            let numeric = (logit(eps) - logit(-eps)) / (2 * eps * Float(hw))
            XCTAssertEqual(weights[ch], numeric, accuracy: 0.02 * abs(weights[ch]) + 1e-6,
                           "channel \(ch): analytic \(weights[ch]) vs finite difference \(numeric)")
        }
        XCTAssertGreaterThan(abs(weights[channels.first!]), 1e-5, "the check is not vacuous")
    }
}
