import Audit
import Basics
@testable import Datasets
import Foundation
@testable import Imaging
@testable import Inference
@testable import Metrics
@testable import Model
import Review
import XCTest

/// Fold ensembles: held-out averaging against PyTorch (scripts/fixtures/make_ensemble_fixture.py), training-set
/// membership through the perceptual signatures, and the member file errors.
final class EnsembleTests: XCTestCase {
    private typealias Expected = EnsembleFixtureExpected

    private var fixtureDir: String { RepoPaths.fixtures + "/ensemble" }

    private func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixtureDir + "/expected.json")))
    }

    private func input(_ image: RGBImage, _ spec: InferenceSpec) -> [Float] {
        ModelInput.tensor(from: image, width: spec.width, height: spec.height, mean: spec.mean, std: spec.std)
    }

    func testHeldOutMeanMatchesPyTorch() throws {
        let ensemble = try ModelEnsemble(path: fixtureDir)
        XCTAssertEqual(ensemble.members.map(\.id), [0, 1])
        XCTAssertEqual(ensemble.members.map { $0.signatures?.count }, [2, 2])
        XCTAssertEqual(Set(ensemble.members.map(\.classifier.info.architecture)), ["efficientnet_b0", "efficientnet_lite0"],
                       "members of different architectures are allowed when classes and input agree")
        let classifier = EnsembleClassifier(ensemble)
        let reference = try expected()
        XCTAssertEqual(reference.images.count, 4)
        for (relative, want) in reference.images.sorted(by: { $0.key < $1.key }) {
            let image = try ImageDecoder.decode(path: RepoPaths.root.appendingPathComponent(relative).path)
            let output = classifier.runHeldOut(input: input(image, classifier.inferenceSpec),
                                               thumbnail: Thumbnail(image), maps: .all)
            let membership = output.membership
            XCTAssertEqual(membership.used, want.members, relative)
            XCTAssertEqual(membership.seenInTraining, want.seen_in_training, relative)
            XCTAssertEqual(membership.memberCount, 2)
            for (p, q) in zip(output.probabilities, want.probabilities) { XCTAssertEqual(Double(p), q, accuracy: reference.tolerance, relative) }
            for (p, q) in zip(output.attention.values, want.attention) { XCTAssertEqual(Double(p), q, accuracy: 2e-3, relative) }
            let cam = try XCTUnwrap(output.gradcam)
            for (p, q) in zip(cam.values, want.gradcam) { XCTAssertEqual(Double(p), q, accuracy: 5e-3, relative) }
            // softmax(logits) is the mean: the evaluation reads logits.
            XCTAssertEqual(Double(Softmax.probabilities(output.logits.map(Double.init))[0]), want.probabilities[0], accuracy: 1e-3)
        }
    }

    /// Evaluate's one-image-per-core pool (replicas with their own buffers, members sharing one arena each) gives
    /// every case the result a single thread gives it, in input order.
    func testOneImagePerCoreMatchesOneThreadInOrder() throws {
        let classifier = EnsembleClassifier(try ModelEnsemble(path: fixtureDir))
        XCTAssertNotNil(classifier.replica(), "an ensemble can be replicated")
        let images = try expected().images.keys.sorted().map {
            try ImageDecoder.decode(path: RepoPaths.root.appendingPathComponent($0).path)
        }
        let inputs = images.map { input($0, classifier.inferenceSpec) }
        let count = inputs.count * 3
        let run = { (workers: Int) in
            InferencePool.map(count: count, classifier: classifier, workers: workers) { c, i -> [Float] in
                let k = i % images.count
                return c.runHeldOut(input: inputs[k], thumbnail: Thumbnail(images[k]), maps: .all).probabilities
            }
        }
        let one = run(1), two = run(2)
        XCTAssertEqual(one.count, count)
        for i in 0..<count {
            for (p, q) in zip(one[i], two[i]) { XCTAssertEqual(p, q, accuracy: 1e-6, "case \(i)") }
            XCTAssertEqual(one[i], one[i % images.count], "the same image gives the same output every time")
        }
        XCTAssertNotEqual(one[0], one[1], "different images give different outputs (the order is checked)")
    }

    /// Python (training/signatures.py, what export_weights.py writes) and Swift compute the same signature bytes.
    func testSignatureBytesMatchPython() throws {
        for (relative, want) in try expected().images {
            let image = try ImageDecoder.decode(path: RepoPaths.root.appendingPathComponent(relative).path)
            let bytes = TrainingSignatures.bytes(of: Thumbnail(image))
            let python = stride(from: 0, to: want.signature.count, by: 2).map { i -> UInt8 in
                let s = want.signature.index(want.signature.startIndex, offsetBy: i)
                return UInt8(want.signature[s..<want.signature.index(s, offsetBy: 2)], radix: 16)!
            }
            XCTAssertEqual(bytes.count, TrainingSignatures.bytesPerSignature)
            XCTAssertEqual(python.count, bytes.count)
            let worst = zip(bytes, python).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1, "\(relative): Swift and Python signatures differ by \(worst) grey levels")
        }
    }

    /// A flipped or rotated copy of a training image counts as seen; an unrelated image does not.
    func testFlippedAndRotatedCopiesCountAsSeen() throws {
        let ensemble = try ModelEnsemble(path: fixtureDir)
        let paths = try expected().images.keys.sorted()
        // The first image (by name) is fold 0's training image, the fourth no member's (see the fixture script).
        let trained = try ImageDecoder.decode(path: RepoPaths.root.appendingPathComponent(paths[0]).path)
        let unrelated = try ImageDecoder.decode(path: RepoPaths.root.appendingPathComponent(paths[3]).path)
        for (name, copy) in [("h-flip", Self.flipped(trained, horizontal: true)),
                             ("v-flip", Self.flipped(trained, horizontal: false)),
                             ("rotated 4°", Self.rotated(trained, degrees: 4))] {
            let m = ensemble.membership(of: Thumbnail(copy))
            XCTAssertEqual(m.used, [1], "\(name) copy of fold 0's training image: only fold 1 has not seen it")
            XCTAssertFalse(m.seenInTraining)
        }
        let m = ensemble.membership(of: Thumbnail(unrelated))
        XCTAssertEqual(m.used, [0, 1])
        XCTAssertFalse(m.seenInTraining)
        XCTAssertEqual(m.label, "held-out (2/2)")
    }

    func testSingleFileWithoutSignaturesSeesNothing() throws {
        let ensemble = try ModelEnsemble(path: RepoPaths.tinyWeights)
        XCTAssertFalse(ensemble.hasSignatures)
        XCTAssertFalse(ensemble.isDirectory)
        XCTAssertEqual(ensemble.ensembleID, ensemble.members[0].classifier.info.weightsID)
        let m = ensemble.membership(of: nil)
        XCTAssertFalse(m.seenInTraining)
        XCTAssertFalse(m.signaturesKnown)
        XCTAssertEqual(m.label, "training set unknown")
    }

    // MARK: bad member files

    private func writeMember(_ dir: URL, _ name: String, from source: String, metadata: [String: String]) throws {
        let file = try SafeTensorsFile(path: source)
        var writer = SafeTensorsWriter(metadata: file.metadata.merging(metadata) { $1 })
        for e in file.entries where e.dtype.isFloat { writer.add(e.name, shape: e.shape, values: try file.floats(e.name)) }
        try writer.write(to: dir.appendingPathComponent(name).path)
    }

    private func loadError(_ path: String) -> String {
        do { _ = try ModelEnsemble(path: path); return "" } catch { return "\(error)" }
    }

    func testMalformedMembersGiveOneLineErrors() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-ens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let lite = RepoPaths.root.appendingPathComponent("Tests/Fixtures/engine/model_tiny_lite0.safetensors").path

        XCTAssertTrue(loadError(tmp.path).contains("holds no member files"), loadError(tmp.path))

        try writeMember(tmp, "fold-0.safetensors", from: lite, metadata: ["fold": "zero"])
        var e = loadError(tmp.path)
        XCTAssertTrue(e.contains("fold-0.safetensors") && e.contains("metadata fold"), e)
        XCTAssertFalse(e.contains("\n"))

        try writeMember(tmp, "fold-0.safetensors", from: lite, metadata: ["fold": "0", "training_signatures": "fracview-nd-v1:AAAA"])
        e = loadError(tmp.path)
        XCTAssertTrue(e.contains("fold-0.safetensors") && e.contains("training_signatures") && e.contains("multiple of 1508"), e)
        try writeMember(tmp, "fold-0.safetensors", from: lite, metadata: ["fold": "0", "training_signatures": "other:xyz"])
        e = loadError(tmp.path)
        XCTAssertTrue(e.contains("training_signatures") && e.contains("fracview-nd-v1:"), e)

        // Members that disagree on classes are refused, naming both files.
        try writeMember(tmp, "fold-0.safetensors", from: lite, metadata: ["fold": "0"])
        try writeMember(tmp, "fold-1.safetensors", from: lite,
                        metadata: ["fold": "1", "classes": "[\"A\",\"B\",\"C\",\"D\",\"E\",\"F\",\"G\",\"H\",\"I\",\"J\"]"])
        e = loadError(tmp.path)
        XCTAssertTrue(e.contains("fold-1.safetensors") && e.contains("fold-0.safetensors") && e.contains("classes"), e)

        // Two members claiming the same fold.
        try writeMember(tmp, "fold-1.safetensors", from: lite, metadata: ["fold": "0"])
        XCTAssertTrue(loadError(tmp.path).contains("same fold"), loadError(tmp.path))
        // A good pair loads.
        try writeMember(tmp, "fold-1.safetensors", from: lite, metadata: ["fold": "1"])
        XCTAssertEqual(try ModelEnsemble(path: tmp.path).members.count, 2)
        // Issue #26 §5: a folder of many members is refused before any is loaded, and a folder of copies stops
        // at the second copy (every member was loaded before the fold check: 60 of them exhausted 2 GB).
        let many = tmp.appendingPathComponent("many")
        try FileManager.default.createDirectory(at: many, withIntermediateDirectories: true)
        for k in 0...ModelEnsemble.maxMembers {
            try FileManager.default.createSymbolicLink(atPath: many.appendingPathComponent("m\(k).safetensors").path,
                                                       withDestinationPath: tmp.appendingPathComponent("fold-0.safetensors").path)
        }
        e = loadError(many.path)
        XCTAssertTrue(e.contains("\(ModelEnsemble.maxMembers + 1) member files, more than the \(ModelEnsemble.maxMembers)"), e)
        try FileManager.default.removeItem(atPath: many.appendingPathComponent("m0.safetensors").path)
        e = loadError(many.path)
        XCTAssertTrue(e.contains("same fold") && e.contains("m1.safetensors") && e.contains("m10.safetensors"), e)
        XCTAssertTrue(loadError(tmp.path + "/missing").contains("no such file"))
    }

    // MARK: image helpers

    static func flipped(_ image: RGBImage, horizontal: Bool) -> RGBImage {
        let w = image.width, h = image.height
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            let sx = horizontal ? w - 1 - x : x, sy = horizontal ? y : h - 1 - y
            for c in 0..<3 { px[(y * w + x) * 3 + c] = image.pixels[(sy * w + sx) * 3 + c] }
        } }
        return RGBImage(width: w, height: h, pixels: px)
    }

    static func rotated(_ image: RGBImage, degrees: Float) -> RGBImage {
        let w = image.width, h = image.height
        let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2, t = degrees * .pi / 180, ct = cos(t), st = sin(t)
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            let dx = Float(x) - cx, dy = Float(y) - cy
            let sx = Int((ct * dx + st * dy + cx).rounded()), sy = Int((-st * dx + ct * dy + cy).rounded())
            guard sx >= 0, sy >= 0, sx < w, sy < h else { continue }
            for c in 0..<3 { px[(y * w + x) * 3 + c] = image.pixels[(sy * w + sx) * 3 + c] }
        } }
        return RGBImage(width: w, height: h, pixels: px)
    }
}

/// The evaluation report scores held-out cases only, says which bootstrap it used, and plays the pointing game.
final class HeldOutEvaluationTests: XCTestCase {
    func testSeenCasesAreLeftOutAndCounted() {
        let classes = ["a", "b"]
        func c(_ path: String, _ truth: Int, _ logits: [Double], group: String? = nil, seen: Bool = false, hit: Bool? = nil) -> EvaluatedCase {
            EvaluatedCase(relativePath: path, truth: truth, logits: logits, group: group, seen: seen, pointingHit: hit,
                          camMassInBoxes: hit.map { $0 ? 0.5 : 0.1 })
        }
        let cases = [c("1", 0, [2, 0], group: "g1", hit: true), c("2", 1, [0, 2], group: "g1", hit: false),
                     c("3", 1, [2, 0], group: "g2", hit: true), c("4", 0, [0, 2], group: "g3", seen: true, hit: true)]
        let r = EvaluationReport(cases: cases, classes: classes, validation: nil)
        XCTAssertEqual(r.n, 3)
        XCTAssertEqual(r.heldOut, 3)
        XCTAssertEqual(r.seen, 1)
        XCTAssertEqual(r.seenCases, ["4"])
        XCTAssertEqual(r.accuracy ?? -1, 2.0 / 3, accuracy: 1e-12, "the seen case (wrong) is not scored")
        XCTAssertEqual(r.ciMethod, "group bootstrap")
        XCTAssertEqual(r.groups, 2)
        XCTAssertEqual(r.pointingGame.n, 3)
        XCTAssertEqual(r.pointingGame.hitRate ?? -1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(r.pointingGame.camMassInBoxes ?? -1, (0.5 + 0.1 + 0.5) / 3, accuracy: 1e-12)
        XCTAssertEqual(r.pointingGameByClass["b"]?.hitRate, 0.5)
        let ungrouped = EvaluationReport(cases: cases.map { EvaluatedCase(relativePath: $0.relativePath, truth: $0.truth, logits: $0.logits) },
                                         classes: classes, validation: nil)
        XCTAssertEqual(ungrouped.ciMethod, "bootstrap")
        XCTAssertNil(ungrouped.groups)
    }

    func testPointingGameGeometry() {
        // 7×7 map peaking in cell (row 3, col 5): it covers x ∈ [5/7, 6/7], y ∈ [3/7, 4/7].
        var values = [Float](repeating: 0, count: 49)
        values[3 * 7 + 5] = 1; values[0] = 0.5
        let map = FeatureMap(width: 7, height: 7, values: values)
        let inside = ImageBox(cx: 0.78, cy: 0.5, w: 0.05, h: 0.05)
        let touching = ImageBox(cx: 0.65, cy: 0.5, w: 0.2, h: 0.1)   // reaches 0.75 > 5/7: overlaps the cell
        let away = ImageBox(cx: 0.2, cy: 0.2, w: 0.1, h: 0.1)
        XCTAssertEqual(PointingGame.hit(map, boxes: [inside]), true)
        XCTAssertEqual(PointingGame.hit(map, boxes: [touching]), true)
        XCTAssertEqual(PointingGame.hit(map, boxes: [away]), false)
        XCTAssertNil(PointingGame.hit(map, boxes: []))
        // A map over a crop (the right half of the image): its peak cell lands in the right half's coordinates.
        let rightHalf = ImageBox(x0: 0.5, y0: 0, x1: 1, y1: 1)
        XCTAssertEqual(PointingGame.hit(map, boxes: [ImageBox(x0: 0.85, y0: 0.42, x1: 0.93, y1: 0.58)], region: rightHalf), true)
        XCTAssertEqual(PointingGame.hit(map, boxes: [inside], region: rightHalf), false)
        // Ties: the first maximum in row-major order.
        XCTAssertEqual(PointingGame.peak(FeatureMap(width: 2, height: 2, values: [1, 3, 3, 0])).map { [$0.row, $0.col] }, [0, 1])
        XCTAssertEqual(PointingGame.massInBoxes(map, boxes: [inside]) ?? -1, 1 / 1.5, accuracy: 1e-6)
    }
}
