import Foundation
import Imaging
import Model
import XCTest

/// Every CAM method equals pytorch-grad-cam's class of the same name on the shipped member 0 and six bundled
/// images, within 1e-4 once both maps are ReLU'd and scaled to [0, 1] by min and max
/// (scripts/fixtures/make_cam_fixtures.py runs the library itself, with its own hooks and backward).
final class CAMMethodParityTests: XCTestCase {
    private struct Reference: Decodable {
        struct Case: Decodable { let target: Int; let height: Int; let width: Int; let maps: [String: [Double]] }
        let weights: String
        let weights_sha256: String
        let tolerance: Double
        let cases: [String: Case]
    }

    func testEveryMethodMatchesPytorchGradCAM() throws {
        let root = Fixtures.repoRoot
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf:
            root.appendingPathComponent("Tests/Fixtures/parity/cam-methods.json")))
        let model = try FractureClassifier(contentsOf: root.appendingPathComponent(reference.weights).path)
        XCTAssertEqual(model.info.weightsID, String(reference.weights_sha256.prefix(16)),
                       "weights changed since the CAM fixture was made: rerun scripts/fixtures/make_cam_fixtures.py")
        XCTAssertEqual(Set(reference.cases.values.flatMap(\.maps.keys)), Set(CAMMethod.all.map(\.id)),
                       "the fixture covers exactly the registered methods")
        let (h, w) = (model.info.inputSize[0], model.info.inputSize[1])
        var worst: [String: Double] = [:]
        for (relative, expected) in reference.cases.sorted(by: { $0.key < $1.key }) {
            let image = try ImageDecoder.decode(path: root.appendingPathComponent(relative).path)
            let input = ModelInput.tensor(from: image, width: w, height: h, mean: model.info.mean, std: model.info.std)
            let output = model.run(input: input, maps: .all)
            XCTAssertEqual(output.predicted, expected.target, relative)
            for method in CAMMethod.all {
                let map = try XCTUnwrap(output.map(method), "\(relative): no \(method.id) map")
                XCTAssertEqual([map.width, map.height], [expected.width, expected.height])
                let shown = map.normalized().map.values
                let want = try XCTUnwrap(expected.maps[method.id])
                for (a, b) in zip(shown, want) { worst[method.id] = max(worst[method.id] ?? 0, abs(Double(a) - b)) }
            }
        }
        for method in CAMMethod.all {
            XCTAssertLessThanOrEqual(worst[method.id] ?? .infinity, reference.tolerance, "\(method.title): max |Δ| after scaling")
        }
        print("CAM parity with pytorch-grad-cam, max |Δ|: \(worst.sorted { $0.key < $1.key })")
    }
}
