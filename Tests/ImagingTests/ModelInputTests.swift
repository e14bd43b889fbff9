import Foundation
@testable import Imaging
import XCTest

final class ModelInputTests: XCTestCase {
    /// torchvision Resize((224, 224)) + ToTensor + Normalize on real X-rays, compared on every 61st value
    /// and on the sums of the whole tensor.
    func testMatchesTorchvision() throws {
        let root = try XCTUnwrap(Fixtures.json("model_input.json") as? [String: Any])
        let mean = (root["mean"] as! [Double]).map(Float.init)
        let std = (root["std"] as! [Double]).map(Float.init)
        let tensors = root["tensors"] as! [[String: Any]]
        XCTAssertEqual(tensors.count, 3)
        for entry in tensors {
            let path = Fixtures.repoRoot.appendingPathComponent(entry["image"] as! String).path
            let image = try ImageDecoder.decode(path: path)
            let tensor = ModelInput.tensor(from: image, width: 224, height: 224, mean: mean, std: std)
            XCTAssertEqual(tensor.count, 3 * 224 * 224)
            let stride = entry["stride"] as! Int
            let data = try Data(contentsOf: Fixtures.url(entry["samples"] as! String))
            let expected = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(expected.count, (tensor.count + stride - 1) / stride)
            var maxDelta: Float = 0
            for (i, value) in expected.enumerated() { maxDelta = max(maxDelta, abs(tensor[i * stride] - value)) }
            XCTAssertLessThanOrEqual(maxDelta, 1e-5, "\(path)")
            print("ModelInput vs torchvision: max |Δ| = \(maxDelta) over \(expected.count) samples of \(path.split(separator: "/").last!)")
            let sum = tensor.reduce(0.0) { $0 + Double($1) }
            let absSum = tensor.reduce(0.0) { $0 + Double(abs($1)) }
            XCTAssertEqual(sum, entry["sum"] as! Double, accuracy: 1e-3)
            XCTAssertEqual(absSum, entry["abs_sum"] as! Double, accuracy: 1e-3)
        }
    }

    func testLayoutIsChannelMajor() {
        let image = RGBImage(width: 2, height: 1, pixels: [255, 0, 51, 0, 255, 102])
        let t = ModelInput.tensor(from: image, width: 2, height: 1, mean: [0, 0, 0], std: [1, 1, 1])
        XCTAssertEqual(t, [1, 0, 0, 1, 0.2, 0.4])
    }
}
