import Foundation
@testable import Imaging
@testable import Inference
@testable import Model
import XCTest

/// The shipped pipeline (whole-image classifiers, localisers, crop classifiers) through `runHeldOut`, the path every
/// command and the review screen take, against PyTorch on the bundled images
/// (scripts/fixtures/make_pipeline_fixtures.py): each case held out by one fold gets that fold's top box within
/// one pixel and the fused probabilities within 1e-3.
final class PipelineParityTests: XCTestCase {
    private struct Reference: Decodable {
        struct Case: Decodable {
            let fold: Int
            let whole: [Double]
            let crop: [Double]
            let fused: [Double]
            let box: [Double]?
        }
        let members_sha256: [String: [String]]
        let tolerance_probability: Double
        let tolerance_pixels: Double
        let cases: [String: Case]
    }

    func testTheShippedPipelineMatchesPyTorchOnTheBundledSample() throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf:
            RepoPaths.root.appendingPathComponent("Tests/Fixtures/parity/pipeline-shipped.json")))
        let ensemble = try ModelEnsemble(path: RepoPaths.root.appendingPathComponent("weights/fracture-classifier").path)
        XCTAssertEqual(ensemble.cropMembers.map(\.classifier.info.weightsID),
                       reference.members_sha256["crop"]?.map { String($0.prefix(16)) },
                       "crop members changed since the fixture was made: rerun make_pipeline_fixtures.py")
        XCTAssertEqual(ensemble.localisers.map(\.localiser.info.weightsID),
                       reference.members_sha256["localiser"]?.map { String($0.prefix(16)) })
        let model = EnsembleClassifier(ensemble)
        let spec = model.inferenceSpec
        var compared = 0, worstP = 0.0, worstPixel = 0.0
        for (relative, want) in reference.cases.sorted(by: { $0.key < $1.key }) {
            let image = try ImageDecoder.decode(path: RepoPaths.root.appendingPathComponent(relative).path)
            let prediction = model.runHeldOut(PreparedInput(image: image, spec: spec), maps: .none)
            // Two bundled images have a near-copy in every member's training data: all five judge them.
            guard prediction.membership.used == [want.fold] else { continue }
            compared += 1
            for (a, b) in zip(prediction.probabilities, want.fused) { worstP = max(worstP, abs(Double(a) - b)) }
            if let box = want.box {
                let top = try XCTUnwrap(prediction.topDetection, relative)
                for (a, b) in zip(top.box.pixels(width: image.width, height: image.height), box.prefix(4)) {
                    worstPixel = max(worstPixel, abs(a - b))
                }
            } else {
                XCTAssertEqual(prediction.detections, [], relative)
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 60, "the cases each held out by one fold")
        XCTAssertLessThanOrEqual(worstP, reference.tolerance_probability, "max |Δp| of the fused probabilities")
        XCTAssertLessThanOrEqual(worstPixel, reference.tolerance_pixels, "max |Δ| of the top box's corners")
        print("shipped pipeline parity on \(compared) images: max |Δp| \(worstP), max box |Δ| \(worstPixel) px")
    }

    /// The shipped pipeline holds each fold's training signatures once (its whole-image and crop members share
    /// them) and no member keeps their text, which the file still has for `fracview info`.
    func testTheShippedPipelineHoldsEachFoldsSignaturesOnce() throws {
        let ensemble = try ModelEnsemble(path: RepoPaths.root.appendingPathComponent("weights/fracture-classifier").path)
        XCTAssertEqual(ensemble.cropMembers.count, 5)
        for crop in ensemble.cropMembers {
            let whole = try XCTUnwrap(ensemble.members.first { $0.fold == crop.fold })
            let a = try XCTUnwrap(whole.signatures), b = try XCTUnwrap(crop.signatures)
            XCTAssertTrue(a.sharesStorage(with: b), "fold \(crop.fold ?? -1): one copy")
            XCTAssertNil(crop.classifier.info.metadata["training_signatures"])
            XCTAssertNotNil(try SafeTensorsFile(path: crop.path).metadata["training_signatures"])
        }
        let folds = ensemble.members.compactMap(\.signatures)
        XCTAssertFalse(folds[0].sharesStorage(with: folds[1]), "different folds, different signatures")
        for l in ensemble.localisers { XCTAssertNil(l.localiser.info.metadata["training_signatures"]) }
    }
}
