import Foundation
import Imaging
@testable import Model
import XCTest

/// The localiser stage against PyTorch (scripts/fixtures/make_localiser_fixtures.py): a tiny random-weight
/// localiser's raw maps and boxes on every instruction set, and the shipped localiser members' boxes on the bundled
/// images (one member alone on all 64, the five members' mean maps on eight): the same box within one pixel.
final class LocaliserParityTests: XCTestCase {
    private struct Tiny: Decodable {
        struct Case: Decodable { let grid: Int; let output: [Double]; let boxes: [[Double]] }
        let weights: String
        let weights_sha256: String
        let cases: [String: Case]
    }

    private struct Shipped: Decodable {
        let members: [String]
        let members_sha256: [String]
        let tolerance_pixels: Double
        let tolerance_score: Double
        let fold0: [String: [[Double]]]
        let ensemble: [String: [[Double]]]
    }

    private func input(_ relative: String, for model: FractureLocaliser) throws -> (tensor: [Float], width: Int, height: Int) {
        let image = try ImageDecoder.decode(path: Fixtures.repoRoot.appendingPathComponent(relative).path)
        let tensor = ModelInput.tensor(from: image, width: model.info.inputSize[1], height: model.info.inputSize[0],
                                       mean: model.info.mean, std: model.info.std)
        return (tensor, image.width, image.height)
    }

    func testTinyLocaliserMatchesPyTorchOnEveryISA() throws {
        let reference = try JSONDecoder().decode(Tiny.self, from: Data(contentsOf:
            Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/parity/localiser-tiny.json")))
        let model = try FractureLocaliser(contentsOf: Fixtures.repoRoot.appendingPathComponent(reference.weights).path)
        XCTAssertEqual(model.info.weightsID, String(reference.weights_sha256.prefix(16)), "rerun make_localiser_fixtures.py")
        try forEachISA { isa in
            for (relative, expected) in reference.cases.sorted(by: { $0.key < $1.key }) {
                let maps = model.run(input: try input(relative, for: model).tensor)
                XCTAssertEqual([maps.width, maps.height], [expected.grid, expected.grid])
                let hw = expected.grid * expected.grid
                // The fixture is PyTorch's raw output, channel-major; the maps hold it after the head's sigmoids.
                func sigmoid(_ v: Double) -> Float { Float(1 / (1 + exp(-v))) }
                let raw = expected.output
                XCTAssertLessThanOrEqual(maxAbsoluteError(maps.centre, (0..<hw).map { sigmoid(raw[$0]) }), 1e-4, "\(isa) centre")
                XCTAssertLessThanOrEqual(maxAbsoluteError(maps.offsetX, (0..<hw).map { sigmoid(raw[hw + $0]) }), 1e-4, "\(isa) offset x")
                XCTAssertLessThanOrEqual(maxAbsoluteError(maps.offsetY, (0..<hw).map { sigmoid(raw[2 * hw + $0]) }), 1e-4, "\(isa) offset y")
                XCTAssertLessThanOrEqual(maxRelativeError(maps.logWidth, (0..<hw).map { Float(raw[3 * hw + $0]) }), 1e-4, "\(isa) log w")
                XCTAssertLessThanOrEqual(maxRelativeError(maps.logHeight, (0..<hw).map { Float(raw[4 * hw + $0]) }), 1e-4, "\(isa) log h")
                let boxes = maps.detections()
                XCTAssertEqual(boxes.count, expected.boxes.count, "\(isa) \(relative): number of boxes")
                for (got, want) in zip(boxes, expected.boxes) {
                    let values = [got.box.x0, got.box.y0, got.box.x1, got.box.y1, Double(got.score)]
                    for (a, b) in zip(values, want) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(isa) \(relative)") }
                }
            }
        }
    }

    func testShippedLocalisersMatchPyTorchOnTheBundledSample() throws {
        let reference = try JSONDecoder().decode(Shipped.self, from: Data(contentsOf:
            Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/parity/localiser-shipped.json")))
        let members = try reference.members.map { try FractureLocaliser(contentsOf: Fixtures.repoRoot.appendingPathComponent($0).path) }
        XCTAssertEqual(members.map(\.info.weightsID), reference.members_sha256.map { String($0.prefix(16)) },
                       "localiser weights changed since the fixture was made: rerun make_localiser_fixtures.py")
        XCTAssertEqual(reference.fold0.count, 64, "the fixture covers the whole bundled sample")
        var worstPixel = 0.0, worstScore = 0.0
        func compare(_ got: [Detection], _ want: [[Double]], width: Int, height: Int, _ what: String) {
            // A box whose score sits within the tolerance of the 0.05 floor may legitimately come or go.
            let firm = want.filter { abs($0[4] - Double(LocaliserMaps.minScore)) > reference.tolerance_score }
            XCTAssertGreaterThanOrEqual(got.count, firm.count, "\(what): boxes")
            for (g, w) in zip(got, firm) {
                let pixels = g.box.pixels(width: width, height: height)
                for (a, b) in zip(pixels, w.prefix(4)) { worstPixel = max(worstPixel, abs(a - b)) }
                worstScore = max(worstScore, abs(Double(g.score) - w[4]))
            }
        }
        for (relative, want) in reference.fold0.sorted(by: { $0.key < $1.key }) {
            let x = try input(relative, for: members[0])
            compare(members[0].run(input: x.tensor).detections(), want, width: x.width, height: x.height, relative)
        }
        for (relative, want) in reference.ensemble.sorted(by: { $0.key < $1.key }) {
            let x = try input(relative, for: members[0])
            let mean = try XCTUnwrap(LocaliserMaps.mean(members.map { $0.run(input: x.tensor) }))
            compare(mean.detections(), want, width: x.width, height: x.height, "ensemble \(relative)")
        }
        XCTAssertLessThanOrEqual(worstPixel, reference.tolerance_pixels, "max box corner |Δ| in pixels")
        XCTAssertLessThanOrEqual(worstScore, reference.tolerance_score, "max score |Δ|")
        print("shipped localiser parity: max corner |Δ| \(worstPixel) px, max score |Δ| \(worstScore)")
    }

    func testTheShippedLocaliserKeepsItsBoxesOnEveryISA() throws {
        let reference = try JSONDecoder().decode(Shipped.self, from: Data(contentsOf:
            Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/parity/localiser-shipped.json")))
        let model = try FractureLocaliser(contentsOf: Fixtures.repoRoot.appendingPathComponent(reference.members[0]).path)
        let sample = reference.fold0.sorted { $0.key < $1.key }.prefix(4)
        try forEachISA { isa in
            for (relative, want) in sample {
                let x = try input(relative, for: model)
                let top = try XCTUnwrap(model.run(input: x.tensor).detections().first, "\(isa) \(relative)")
                for (a, b) in zip(top.box.pixels(width: x.width, height: x.height), want[0].prefix(4)) {
                    XCTAssertEqual(a, b, accuracy: reference.tolerance_pixels, "\(isa) \(relative)")
                }
                XCTAssertEqual(Double(top.score), want[0][4], accuracy: reference.tolerance_score, "\(isa) \(relative)")
            }
        }
    }
}
