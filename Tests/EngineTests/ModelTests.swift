@testable import Engine
@testable import Model
import XCTest

/// Whole FractureClassifiers (tiny random-weight EfficientNets, BN statistics from real X-rays) against PyTorch,
/// run on the normalised tensors of three sample images.
final class ModelTests: XCTestCase {
    private func check(_ model: String) throws {
        let classifier = try FractureClassifier(contentsOf: Fixtures.path("model_\(model).safetensors"))
        let expected = try Fixtures.open("expected_\(model)")
        for name in Fixtures.inputNames {
            let input = try Fixtures.open("input_\(name)").floats("input")
            let out = classifier.run(input: input, maps: .all)
            let probs = try expected.floats("\(name).probabilities")
            XCTAssertLessThanOrEqual(maxAbsoluteError(out.probabilities, probs), 1e-4, "\(model) \(name) probabilities")
            XCTAssertClose(out.logits, try expected.floats("\(name).logits"), "\(model) \(name) logits")
            XCTAssertEqual(out.predicted, probs.indices.max(by: { probs[$0] < probs[$1] }), "\(model) \(name) class")
            let att = try expected.floats("\(name).attention")
            XCTAssertLessThanOrEqual(maxAbsoluteError(out.attention.values, att), 1e-4, "\(model) \(name) attention")
            XCTAssertEqual(out.attention.width, 7)
            let cam = try XCTUnwrap(out.gradcam)
            let refCAM = try expected.floats("\(name).gradcam")
            XCTAssertGreaterThanOrEqual(correlation(cam.values, refCAM), 0.999, "\(model) \(name) Grad-CAM")
            XCTAssertTrue(cam.values.allSatisfy { $0 >= 0 && $0 <= 1 })
            // Without Grad-CAM: same numbers, no map.
            let plain = classifier.run(input: input, maps: .none)
            XCTAssertNil(plain.gradcam)
            XCTAssertEqual(plain.logits, out.logits)
        }
    }

    func testTinyEfficientNetB0MatchesPyTorch() throws { try check("tiny_b0") }

    /// The one argmax: the first of equal maxima (torch.argmax's rule), 0 when empty, NaN never chosen.
    func testArgmaxTakesTheFirstMaximum() {
        XCTAssertEqual(argmax([0.1, 0.7, 0.2]), 1)
        XCTAssertEqual(argmax([0.4, 0.1, 0.4]), 0)
        XCTAssertEqual(argmax([]), 0)
        XCTAssertEqual(argmax([0.2, .nan, 0.5]), 2)
        XCTAssertEqual(argmax([-3, -1, -2]), 1)
    }

    func testTinyEfficientNetLiteMatchesPyTorch() throws { try check("tiny_lite0") }

    func testInfoFromMetadata() throws {
        let m = try FractureClassifier(contentsOf: Fixtures.path("model_tiny_b0.safetensors"))
        XCTAssertEqual(m.info.architecture, "efficientnet_b0")
        XCTAssertEqual(m.info.classes, ModelMetadata.defaultClasses)
        XCTAssertEqual(m.info.inputSize, [224, 224])
        XCTAssertEqual(m.info.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(m.info.metadata["note"], "tiny random-weight test model (fracview engine fixture)")
        XCTAssertEqual(m.config.widthMult, 0.25)
        // features + attention gate + classifier (1, 2 affine, 4), BN running statistics excluded.
        let c = m.config.featureChannels
        let head = (c * (c / 8) + c / 8) + (c / 8 + 1) + (c * 512 + 512) + 2 * 512 + (512 * 10 + 10)
        XCTAssertEqual(m.info.parameterCount, m.config.featureParameterCount + head)
        let digests = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory
            .appendingPathComponent("sha256.json"))) as! [String: String]
        XCTAssertEqual(m.info.weightsID, String(digests["model_tiny_b0.safetensors"]!.prefix(16)))
    }

    /// An MBConv block lowers its convs' row-split minimum to a 7×7 map's 49 pixels (all three alike, so each core
    /// reads the rows it wrote) only where its 1×1 weights are small enough for each core to read whole (≤ 256 K).
    /// In the shipped Lite0 member that is every block but the last, whose projection 1152 → 320 has 369 K weights
    /// (on larger maps than 7×7 the lower minimum changes nothing: they split rows anyway).
    func testOnlyBlocksWithSmallOneByOneWeightsKeepRowsOnEachCore() throws {
        let path = Fixtures.repoRoot.appendingPathComponent("weights/fracture-classifier/fold-0.safetensors").path
        let classifier = try FractureClassifier(contentsOf: path)
        var keeping = [String](), notKeeping = [String]()
        for block in classifier.features.blocks {
            let minimums = Set([block.expand, block.depthwise, block.project].compactMap { $0?.rowSplitMinimum })
            let name = "\(block.spec.inChannels)→\(block.spec.expandedChannels)→\(block.spec.outChannels)"
            if minimums == [MBConvBlock.localRowSplitPixels] { keeping.append(name) }
            else if minimums == [Conv2d.rowSplitPixels] { notKeeping.append(name) }
            else { XCTFail("\(name): its convs split differently, \(minimums)") }
        }
        XCTAssertEqual(notKeeping, ["192→1152→320"])
        XCTAssertEqual(keeping.filter { $0 == "192→1152→192" }.count, 3, "the 7×7 5×5 blocks: \(keeping)")
        XCTAssertEqual(keeping.count, classifier.features.blocks.count - 1)
    }
}
