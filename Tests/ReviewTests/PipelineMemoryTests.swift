import CEngineKernels
@testable import Engine
import Foundation
@testable import Inference
@testable import Model
import XCTest

/// What the shipped 15-model pipeline holds in memory: its 1×1 weights in half precision (the files are F16, so
/// nothing is lost) and one set of activation buffers, each sized for what it holds. `fracview bench` reports the
/// resulting peak RSS; these tests pin the two causes, which do not depend on the machine's speed.
final class PipelineMemoryTests: XCTestCase {
    private static let shipped = RepoPaths.root.appendingPathComponent("weights/fracture-classifier").path

    /// Every 1×1 conv of every model, with the model's name (none keeps its NCHW weights: the CAM backward runs the
    /// gate's transposed panels, `gateBackward`, listed here too).
    private func pointwiseConvs(_ ensemble: ModelEnsemble) -> [(name: String, conv: Conv2d, keepsNCHW: Bool)] {
        func backbone(_ f: EfficientNetFeatures) -> [Conv2d] {
            f.blocks.flatMap { [$0.expand, $0.project].compactMap { $0 } } + [f.head]
        }
        var convs = [(name: String, conv: Conv2d, keepsNCHW: Bool)]()
        for m in ensemble.members + ensemble.cropMembers {
            let name = URL(fileURLWithPath: m.path).lastPathComponent
            convs += backbone(m.classifier.features).map { (name, $0, false) }
            convs.append((name, m.classifier.head.gate1, false))
            convs.append((name, m.classifier.head.gateBackward, false))
        }
        for l in ensemble.localisers {
            let name = URL(fileURLWithPath: l.path).lastPathComponent
            convs += (backbone(l.localiser.features) + [l.localiser.hidden]).map { (name, $0, false) }
        }
        return convs
    }

    func testTheShippedPipelineHoldsItsPointwiseWeightsInHalfPrecision() throws {
        let ensemble = try ModelEnsemble(path: Self.shipped)
        let convs = pointwiseConvs(ensemble)
        XCTAssertEqual(convs.count, 15 * 33 + 10, "Lite0: 16 blocks' expand and project (the first has no expand), the head conv, the gate or box head; the classifiers' gate backward")
        var packedBytes = 0, singleBytes = 0
        for (name, conv, _) in convs {
            XCTAssertEqual(conv.kind, .pointwise)
            packedBytes += conv.channelsLastHalfWeight.count * 2 + conv.channelsLastWeight.count * 4
            singleBytes += fv_packed_size(conv.outChannels, conv.inChannels) * 4
            guard HalfPrecision.widenedInHardware else { continue }
            XCTAssertFalse(conv.channelsLastHalfWeight.isEmpty, "\(name): \(conv.inChannels)→\(conv.outChannels) in half precision")
            XCTAssertTrue(conv.channelsLastWeight.isEmpty, "\(name): no F32 copy beside the halves")
        }
        // fc1 (1280 → 512, read once per forward) of every whole-image classifier too; the crop probes' heads were
        // trained and stored in F32, so theirs stay F32.
        for m in ensemble.members where HalfPrecision.widenedInHardware {
            XCTAssertEqual(m.classifier.head.fc1.halfWeight.count, 1280 * 512, "\(m.path): fc1 in half precision")
            XCTAssertTrue(m.classifier.head.fc1.weight.isEmpty)
        }
        for m in ensemble.cropMembers {
            XCTAssertTrue(m.classifier.head.fc1.halfWeight.isEmpty, "\(m.path): an F32 head is not rounded")
            XCTAssertEqual(m.classifier.head.fc1.weight.count, 1280 * 512)
        }
        if HalfPrecision.widenedInHardware {
            XCTAssertEqual(packedBytes * 2, singleBytes, "half the bytes of F32 panels")
            XCTAssertLessThan(packedBytes, 110 << 20, "the pipeline's 1×1 weights: \(packedBytes >> 20) MB")
        }
        for (name, conv, keepsNCHW) in convs {
            XCTAssertEqual(conv.weight.isEmpty, !keepsNCHW, "\(name): \(conv.inChannels)→\(conv.outChannels) NCHW weights")
        }
    }

    /// The localisers (320×320) run on the first classifier's arena (224×224). Each of its four buffers is sized for
    /// what it holds (block inputs and outputs, an expansion written out, a depthwise output), so the arena is the
    /// largest of each over both sizes: not four copies of the widest expansion (160×160×96 at 320, which the fused
    /// kernel never writes). Sharing it changes no result.
    func testTheSharedArenaHoldsEachBufferAtItsLargestUse() throws {
        let ensemble = try ModelEnsemble(path: Self.shipped)
        let classifier = ensemble.members[0].classifier, localiser = ensemble.localisers[0].localiser
        XCTAssertTrue(localiser.arena === classifier.arena)
        let size = localiser.info.inputSize, input = (0..<(3 * size[0] * size[1])).map { Float(($0 * 7919) % 255) / 64 - 2 }
        let shared = localiser.run(input: input)
        let classifierInput = Array(input.prefix(3 * 224 * 224))
        let prediction = classifier.run(input: classifierInput, maps: .none)

        let small = classifier.features.makePlan(height: 224, width: 224, arena: ActivationArena())
        let large = localiser.features.makePlan(height: size[0], width: size[1], arena: ActivationArena())
        let capacities = classifier.arena.buffers.map(\.capacity)
        XCTAssertEqual(capacities, zip(small.bufferCapacities, large.bufferCapacities).map { max($0, $1) })
        let widestExpansion = localiser.features.blocks.map { $0.spec.expandedChannels }.max()! * (size[0] / 2) * (size[1] / 2)
        XCTAssertLessThan(capacities.reduce(0, +), 4 * widestExpansion / 3,
                          "\(capacities.reduce(0, +) * 4 >> 20) MB of buffers, not 4 × \(widestExpansion * 4 >> 20) MB")

        let alone = localiser.replica(), aloneClassifier: FractureClassifier = classifier.replica()
        XCTAssertFalse(alone.arena === classifier.arena)
        let own = alone.run(input: input)
        XCTAssertEqual(own.centre, shared.centre, "the localiser on its own buffers")
        XCTAssertEqual(own.logWidth, shared.logWidth)
        XCTAssertEqual(aloneClassifier.run(input: classifierInput, maps: .none).probabilities, prediction.probabilities)
    }
}
