import Foundation
@testable import Model
import XCTest

/// The block tables of B0–B7 (from torchvision's own builders) and Lite0–2, as dumped by the fixture script.
final class ConfigTests: XCTestCase {
    func testEveryArchitectureMatchesPyTorch() throws {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("efficientnet_configs.json"))
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertEqual(Set(all.keys), Set(EfficientNetConfig.knownNames))
        for (name, ref) in all {
            let c = try XCTUnwrap(EfficientNetConfig.named(name))
            XCTAssertEqual(c.stemChannels, ref["stem"] as? Int, "\(name) stem")
            XCTAssertEqual(c.featureChannels, ref["head"] as? Int, "\(name) head")
            XCTAssertEqual(c.bnEps, (ref["bn_eps"] as? NSNumber)?.doubleValue ?? -1, accuracy: 1e-12, "\(name) eps")
            XCTAssertEqual(c.activation == .silu ? "SiLU" : "ReLU6", ref["activation"] as? String, name)
            XCTAssertEqual(c.featureParameterCount, ref["feature_parameters"] as? Int, "\(name) parameters")
            let blocks = try XCTUnwrap(ref["blocks"] as? [[String: Any]])
            XCTAssertEqual(c.blocks.count, blocks.count, "\(name) block count")
            for (b, r) in zip(c.blocks, blocks) {
                let where_ = "\(name) block \(b.stage).\(b.indexInStage)"
                XCTAssertEqual(b.stage, r["stage"] as? Int, where_)
                XCTAssertEqual(b.indexInStage, r["index"] as? Int, where_)
                XCTAssertEqual(b.inChannels, r["in"] as? Int, where_)
                XCTAssertEqual(b.expandedChannels, r["expanded"] as? Int, where_)
                XCTAssertEqual(b.outChannels, r["out"] as? Int, where_)
                XCTAssertEqual(b.kernel, r["kernel"] as? Int, where_)
                XCTAssertEqual(b.stride, r["stride"] as? Int, where_)
                XCTAssertEqual(b.squeezeChannels, r["squeeze"] as? Int, where_)
            }
        }
    }

    func testMakeDivisibleMatchesTorchvision() {
        // _make_divisible values worked out by hand from torchvision's formula.
        XCTAssertEqual(EfficientNetConfig.makeDivisible(32 * 1.4), 48)
        XCTAssertEqual(EfficientNetConfig.makeDivisible(10), 16)   // 8 would be < 0.9·10
        XCTAssertEqual(EfficientNetConfig.makeDivisible(4), 8)     // at least the divisor
        XCTAssertEqual(EfficientNetConfig.makeDivisible(320 * 1.8), 576)
    }

    func testOverrides() throws {
        let c = try XCTUnwrap(EfficientNetConfig.named("efficientnet_b4", widthMult: 0.25, depthMult: 0.25, bnEps: 0.01))
        XCTAssertEqual(c.bnEps, 0.01)
        XCTAssertEqual(c.blocks.count, 7)
        XCTAssertNil(EfficientNetConfig.named("efficientnet_b8"))
    }
}
