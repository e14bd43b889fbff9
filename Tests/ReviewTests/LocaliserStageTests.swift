import Audit
import Basics
@testable import Datasets
import Foundation
@testable import Imaging
@testable import Inference
@testable import Metrics
@testable import Model
@testable import Store
import XCTest

/// The localiser stage of the pipeline (issue #27 §4–6): member files by role, the fold's localiser for a held-out
/// case, the boxes through the cache, the localisation metrics and the per-case table.
final class LocaliserStageTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-loc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    static let shipped = RepoPaths.root.appendingPathComponent("weights/fracture-classifier").path
    static let tinyLocaliser = RepoPaths.root.appendingPathComponent("Tests/Fixtures/engine/model_tiny_localiser.safetensors").path
    static let tinyClassifier = RepoPaths.root.appendingPathComponent("Tests/Fixtures/engine/model_tiny_lite0.safetensors").path

    /// A copy of a weights file with some metadata keys changed (nil removes the key).
    func copy(_ source: String, to name: String, metadata changes: [String: String?]) throws -> String {
        let file = try SafeTensorsFile(path: source)
        var meta = file.metadata
        for (k, v) in changes { meta[k] = v }
        var writer = SafeTensorsWriter(metadata: meta)
        for e in file.entries where e.dtype.isFloat { writer.add(e.name, shape: e.shape, values: try file.floats(e.name)) }
        let path = tmp.appendingPathComponent(name).path
        try writer.write(to: path)
        return path
    }

    func folder(_ name: String, _ files: [(String, String, [String: String?])]) throws -> String {
        let dir = tmp.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (source, file, changes) in files { _ = try copy(source, to: "\(name)/\(file)", metadata: changes) }
        return dir.path
    }

    func loadError(_ path: String) -> String {
        do { _ = try ModelEnsemble(path: path); return "" } catch { return "\(error)" }
    }

    // MARK: member files

    func testMemberFilesAreSortedByRoleAndChecked() throws {
        // One classifier and one localiser, neither with a fold: every case uses both.
        let pair = try folder("pair", [(Self.tinyClassifier, "a.safetensors", [:]), (Self.tinyLocaliser, "b.safetensors", [:])])
        let ensemble = try ModelEnsemble(path: pair)
        XCTAssertEqual(ensemble.members.count, 1)
        XCTAssertEqual(ensemble.localisers.count, 1)
        let model = EnsembleClassifier(ensemble)
        XCTAssertEqual(model.inferenceSpec.localiser?.width, 128)
        let classifierAlone = try ModelEnsemble(path: Self.tinyClassifier)
        XCTAssertNotEqual(ensemble.ensembleID, classifierAlone.ensembleID, "the localiser keys the cache too")
        let image = RGBImage(width: 64, height: 48, pixels: (0..<(64 * 48 * 3)).map { UInt8($0 % 251) })
        let prediction = model.runHeldOut(PreparedInput(image: image, spec: model.inferenceSpec), maps: .none)
        XCTAssertNotNil(prediction.detections, "a model with a localiser always says what it found")
        let alone = EnsembleClassifier(classifierAlone)
        XCTAssertNil(alone.inferenceSpec.localiser)
        XCTAssertNil(alone.runHeldOut(PreparedInput(image: image, spec: alone.inferenceSpec), maps: .none).detections,
                     "no localiser, no boxes (not an empty list)")

        let onlyLocalisers = try folder("only", [(Self.tinyLocaliser, "a.safetensors", [:])])
        XCTAssertTrue(loadError(onlyLocalisers).contains("holds no whole-image classifier members"), loadError(onlyLocalisers))
        // Crop classifiers need a localiser to say where to crop, and are never a model on their own.
        let cropOnly = try folder("croponly", [(Self.tinyClassifier, "a.safetensors", [:]),
                                               (Self.tinyClassifier, "b.safetensors", ["input": "crop"])])
        XCTAssertTrue(loadError(cropOnly).contains("no localiser members to say where to crop"), loadError(cropOnly))
        let cropFile = try copy(Self.tinyClassifier, to: "crop.safetensors", metadata: ["input": "crop"])
        XCTAssertTrue(loadError(cropFile).contains("a crop classifier member: pass the folder"), loadError(cropFile))
        let patch = try copy(Self.tinyClassifier, to: "patch.safetensors", metadata: ["input": "patch"])
        XCTAssertTrue(loadError(patch).contains("unsupported: metadata input \"patch\""), loadError(patch))
        let badPad = try copy(Self.tinyClassifier, to: "pad.safetensors", metadata: ["input": "crop", "crop_pad": "1e9"])
        XCTAssertTrue(loadError(badPad).contains("crop_pad"), loadError(badPad))
        // All three kinds: the crop's probabilities are averaged with the whole image's.
        let three = try folder("three", [(Self.tinyClassifier, "a.safetensors", [:]), (Self.tinyLocaliser, "b.safetensors", [:]),
                                         (Self.tinyClassifier, "c.safetensors", ["input": "crop"])])
        let full = try ModelEnsemble(path: three)
        XCTAssertEqual([full.members.count, full.localisers.count, full.cropMembers.count], [1, 1, 1])
        let fullModel = EnsembleClassifier(full)
        let fused = fullModel.runHeldOut(PreparedInput(image: image, spec: fullModel.inferenceSpec), maps: .none)
        let wholeOnly = model.runHeldOut(PreparedInput(image: image, spec: model.inferenceSpec), maps: .none)
        let cropInput = try XCTUnwrap(full.cropMembers.first).classifier
        let cropImage = CropRule().cut(image, around: fused.topDetection?.box).pixels
        let cropP = cropInput.run(input: ModelInput.tensor(from: cropImage, width: 224, height: 224, mean: cropInput.info.mean,
                                                           std: cropInput.info.std), maps: .none).probabilities
        for i in fused.probabilities.indices {
            XCTAssertEqual(fused.probabilities[i], (wholeOnly.probabilities[i] + cropP[i]) / 2, accuracy: 1e-5)
        }
        XCTAssertEqual(fused.detections, wholeOnly.detections)
        XCTAssertTrue(loadError(Self.tinyLocaliser).contains("a localiser member, not a classifier"), loadError(Self.tinyLocaliser))
        let odd = try folder("odd", [(Self.tinyClassifier, "a.safetensors", [:]), (Self.tinyLocaliser, "b.safetensors", ["role": "segmenter"])])
        XCTAssertTrue(loadError(odd).contains("unsupported: metadata role \"segmenter\""), loadError(odd))
        // A localiser whose fold no classifier has would localise cases its own training saw.
        let stray = try folder("stray", [(Self.tinyClassifier, "a.safetensors", ["fold": "0"]),
                                         (Self.tinyLocaliser, "b.safetensors", ["fold": "3"])])
        XCTAssertTrue(loadError(stray).contains("a localiser of fold 3, which no classifier member has"), loadError(stray))
        let twins = try folder("twins", [(Self.tinyClassifier, "a.safetensors", ["fold": "0"]),
                                         (Self.tinyLocaliser, "b.safetensors", ["fold": "0"]),
                                         (Self.tinyLocaliser, "c.safetensors", ["fold": "0"])])
        XCTAssertTrue(loadError(twins).contains("two localiser members have the same fold"), loadError(twins))
    }

    /// A case a fold member held out is localised by that fold's localiser alone; an image no member trained on,
    /// by the five localisers' mean maps.
    func testTheShippedModelLocalisesWithTheHeldOutFold() throws {
        let ensemble = try ModelEnsemble(path: Self.shipped)
        XCTAssertEqual(ensemble.members.count, 5)
        XCTAssertEqual(Set(ensemble.localisers.compactMap(\.fold)), Set(ensemble.members.compactMap(\.fold)))
        let model = EnsembleClassifier(ensemble)
        let spec = model.inferenceSpec
        let dir = RepoPaths.sample + "/test/images"
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir).sorted().first)
        let image = try ImageDecoder.decode(path: dir + "/" + name)
        let prepared = PreparedInput(image: image, spec: spec)
        let heldOut = model.runHeldOut(prepared, maps: .none)
        XCTAssertEqual(heldOut.membership.used.count, 1, "a dataset image is held out by one fold")
        let fold = heldOut.membership.used[0]
        let own = try XCTUnwrap(ensemble.localisers.first { $0.fold == fold }).localiser
        let alone = own.run(input: try XCTUnwrap(prepared.localiserTensor)).detections()
        XCTAssertEqual(heldOut.detections, alone)
        XCTAssertFalse(alone.isEmpty)
        // The crop stage: its crop lies around the top box, and its maps come with the prediction when asked for.
        let withMaps = model.runHeldOut(prepared, maps: .all)
        let crop = try XCTUnwrap(withMaps.crop)
        let top = try XCTUnwrap(alone.first).box
        XCTAssertTrue(crop.region.x0 <= top.x0 + 1e-3 && crop.region.x1 >= top.x1 - 1e-3 && crop.region.y0 <= top.y0 + 1e-3
                      && crop.region.y1 >= top.y1 - 1e-3, "\(crop.region) holds \(top)")
        XCTAssertEqual(Set(crop.maps.keys), Set(CAMMethod.all.map(\.id)))
        XCTAssertEqual(withMaps.shownMap(.hiResCAM)?.region, crop.region, "the screen shows the crop's map in the crop")
        XCTAssertTrue(try XCTUnwrap(heldOut.crop).maps.isEmpty, "no maps unless asked for")

        // An image no member trained on (the signatures see through flips, so a made-up one): all five localise
        // it, their maps averaged.
        var pixels = [UInt8](repeating: 0, count: 300 * 200 * 3)
        for y in 0..<200 { for x in 0..<300 { pixels[(y * 300 + x) * 3] = UInt8((x + y) % 256); pixels[(y * 300 + x) * 3 + 1] = UInt8(y) } }
        let made = RGBImage(width: 300, height: 200, pixels: pixels)
        let fresh = PreparedInput(image: made, spec: spec)
        let unseen = model.runHeldOut(fresh, maps: .none)
        XCTAssertEqual(unseen.membership.used.count, 5)
        let mean = try XCTUnwrap(LocaliserMaps.mean(ensemble.localisers.map { $0.localiser.run(input: fresh.localiserTensor!) }))
        XCTAssertEqual(unseen.detections, mean.detections())
        // The five crop probes share one frozen backbone, loaded once and run once a case; each member run on its own
        // gives the same probabilities.
        let crops = ensemble.cropMembers.map(\.classifier)
        XCTAssertEqual(crops.count, 5)
        XCTAssertTrue(crops.allSatisfy { $0.sharesBackbone(with: crops[0]) })
        XCTAssertFalse(ensemble.members[1].classifier.sharesBackbone(with: ensemble.members[0].classifier))
        let cropImage = CropRule().cut(made, around: unseen.topDetection?.box).pixels
        let cropTensor = ModelInput.tensor(from: cropImage, width: 224, height: 224, mean: crops[0].info.mean, std: crops[0].info.std)
        let alonePs = crops.map { $0.replica().run(input: cropTensor, maps: .none).probabilities }
        let wholeP = model.runHeldOut(input: fresh.tensor, thumbnail: fresh.thumbnail, maps: .none).probabilities
        for i in unseen.probabilities.indices {
            let cropMean = alonePs.map { $0[i] }.reduce(0, +) / 5
            XCTAssertEqual(unseen.probabilities[i], (wholeP[i] + cropMean) / 2, accuracy: 1e-5)
        }
    }

    // MARK: decoding

    func testBoxesAreReadFromLocalMaximaAboveTheFloor() {
        // 4×4 grid, raw [cell, 5]: peaks at (0, 0) 0.9 and (2, 3) 0.6, a 0.04 peak below the floor at (3, 0).
        var raw = [Float](repeating: 0, count: 16 * 5)
        func logit(_ p: Float) -> Float { log(p / (1 - p)) }
        for cell in 0..<16 { raw[cell * 5] = logit(0.01); raw[cell * 5 + 3] = log(0.25); raw[cell * 5 + 4] = log(0.5) }
        raw[0] = logit(0.9); raw[1] = 0; raw[2] = 0              // centre of cell (0, 0): offset 0.5 → (0.125, 0.125)
        raw[1 * 5] = logit(0.5)                                   // a neighbour of the 0.9 peak: not a maximum
        raw[(2 * 4 + 3) * 5] = logit(0.6)
        raw[(3 * 4 + 0) * 5] = logit(0.04)
        let maps = LocaliserMaps(width: 4, height: 4, raw: raw)
        let boxes = maps.detections()
        XCTAssertEqual(boxes.count, 2)
        XCTAssertEqual(boxes[0].score, 0.9, accuracy: 1e-6)
        XCTAssertEqual(boxes[1].score, 0.6, accuracy: 1e-6)
        // Clipped to the image at the top-left: 0.125 − 0.125 = 0 across, 0.125 − 0.25 → 0 down.
        XCTAssertEqual(boxes[0].box.x0, 0, accuracy: 1e-6)
        XCTAssertEqual(boxes[0].box.y0, 0, accuracy: 1e-6)
        XCTAssertEqual(boxes[0].box.x1, 0.25, accuracy: 1e-6)
        XCTAssertEqual(boxes[0].box.y1, 0.375, accuracy: 1e-6)
        XCTAssertEqual(maps.detections(limit: 1).count, 1)
        // Nothing above the floor: "no fracture found", an empty list.
        var low = raw
        for cell in 0..<16 { low[cell * 5] = logit(0.02) }
        XCTAssertEqual(LocaliserMaps(width: 4, height: 4, raw: low).detections(), [])
        // A size that overflows or a NaN centre is never a box.
        var broken = raw
        broken[3] = 1e6; broken[(2 * 4 + 3) * 5] = .nan
        XCTAssertTrue(LocaliserMaps(width: 4, height: 4, raw: broken).detections().allSatisfy { $0.box.isUsable })
        XCTAssertNil(LocaliserMaps.mean([maps, LocaliserMaps(width: 2, height: 2, raw: [Float](repeating: 0, count: 20))]))
    }

    // MARK: metrics

    func testHitCentreAndAveragePrecision() throws {
        let label = ImageBox(x0: 0.2, y0: 0.2, x1: 0.4, y1: 0.4)
        let near = Detection(box: ImageBox(x0: 0.22, y0: 0.2, x1: 0.42, y1: 0.4), score: 0.9)   // IoU 0.18/0.22 = 0.818
        let loose = Detection(box: ImageBox(x0: 0.3, y0: 0.3, x1: 0.6, y1: 0.6), score: 0.8)    // IoU 0.01/0.12: a miss, centre outside
        XCTAssertEqual(Localisation.hit(near, labels: [label]), true)
        XCTAssertEqual(Localisation.hit(loose, labels: [label]), false)
        XCTAssertEqual(Localisation.centreInBox(loose, labels: [label]), false)
        XCTAssertEqual(Localisation.hit(nil, labels: [label]), false, "nothing found is a miss")
        XCTAssertNil(Localisation.hit(near, labels: []))
        // Two images with one label each. Ranked: 0.9 TP, 0.8 FP, 0.7 TP (second image) → precision 1, 0.5, 0.667;
        // recalls 0.5, 0.5, 1; envelope 1, 0.667, 0.667 → AP = 1·0.5 + 0.667·0.5 = 0.8333 (training/localiser.py agrees).
        let second = Detection(box: label, score: 0.7)
        let ap = try XCTUnwrap(Localisation.averagePrecision([[near, loose], [second]], labels: [[label], [label]]))
        XCTAssertEqual(ap, 0.5 + 0.5 * (2.0 / 3.0), accuracy: 1e-9)
        XCTAssertNil(Localisation.averagePrecision([[near]], labels: [[]]))
    }

    func testEvaluationReportsLocalisationAndTheCaseTableHasTheBox() throws {
        var cases: [EvaluatedCase] = []
        let label = ImageBox(x0: 0.2, y0: 0.2, x1: 0.4, y1: 0.4)
        for i in 0..<20 {
            var c = EvaluatedCase(relativePath: "c\(i).jpg", truth: i % 2, logits: [Double(i % 2), Double(1 - i % 2)])
            c.group = "g\(i / 2)"
            c.labelBoxes = [label]
            c.imageSize = (200, 100)
            // Ten hits, five misses, five with nothing found.
            c.detections = i < 10 ? [Detection(box: label, score: 0.8)]
                : i < 15 ? [Detection(box: ImageBox(x0: 0.6, y0: 0.6, x1: 0.9, y1: 0.9), score: 0.3)] : []
            cases.append(c)
        }
        let report = EvaluationReport(cases: cases, classes: ["Healthy", "Linear"], validation: nil, resamples: 200)
        let l = try XCTUnwrap(report.localisation)
        XCTAssertEqual(l.n, 20)
        XCTAssertEqual(l.hitRate ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(l.noneFound, 5)
        let ci = try XCTUnwrap(l.hitRateCI95)
        XCTAssertLessThan(ci.low, 0.5); XCTAssertGreaterThan(ci.high, 0.5)
        XCTAssertNotNil(l.topScoreHealthy); XCTAssertNotNil(l.hitRateByClass["Linear"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        let section = try XCTUnwrap(json["localisation"] as? [String: Any])
        XCTAssertEqual(section["hit_rate"] as? Double ?? -1, 0.5, accuracy: 1e-12)
        XCTAssertNotNil(section["ap50_ci95"])

        // Without a localiser the section is an explicit null.
        let plain = cases.map { c -> EvaluatedCase in var c = c; c.detections = nil; return c }
        let plainJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: EvaluationReport(cases: plain, classes: ["Healthy", "Linear"],
                                                                                         validation: nil, resamples: 50).json()) as? [String: Any])
        XCTAssertTrue(plainJSON["localisation"] is NSNull)

        let table = EvaluationCaseTable.render(cases: cases, classes: ["Healthy", "Linear"], temperature: nil)
        let rows = table.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        for column in ["box_x0", "box_y0", "box_x1", "box_y1", "box_score", "cam_x", "held_out"] { XCTAssertTrue(header.contains(column), column) }
        func cell(_ row: Int, _ column: String) -> String { rows[row][header.firstIndex(of: column)!] }
        XCTAssertEqual([cell(1, "box_x0"), cell(1, "box_y0"), cell(1, "box_x1"), cell(1, "box_y1")], ["40.0", "20.0", "80.0", "40.0"],
                       "image pixels of a 200×100 image")
        XCTAssertEqual(cell(1, "box_score"), "0.8000")
        XCTAssertEqual(cell(16, "box_x0"), "", "nothing found: empty cells")
    }

    // MARK: the cache

    func testTheCacheKeepsTheBoxesAndRefusesDamagedOnes() throws {
        let path = tmp.appendingPathComponent("review.sqlite").path
        let store = try ReviewStore(path: path)
        var prediction = Prediction(probabilities: [0.25, 0.75], attention: FeatureMap(width: 1, height: 1, values: [1]), gradcam: nil)
        prediction.detections = [Detection(box: ImageBox(x0: 0.1, y0: 0.2, x1: 0.3, y1: 0.5), score: 0.625)]
        try store.predictionCache.storePrediction(prediction, imageHash: "h1", weightsID: "w")
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: "h1", weightsID: "w")?.detections, prediction.detections)
        prediction.detections = []
        try store.predictionCache.storePrediction(prediction, imageHash: "h2", weightsID: "w")
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: "h2", weightsID: "w")?.detections, [], "found nothing stays found-nothing")
        // The crop stage's region and maps round-trip too.
        prediction.crop = CropView(region: ImageBox(x0: 0.25, y0: 0.25, x1: 0.75, y1: 0.75),
                                   maps: ["hirescam": FeatureMap(width: 2, height: 2, values: [0, 0.25, 0.5, 1])])
        try store.predictionCache.storePrediction(prediction, imageHash: "h4", weightsID: "w")
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: "h4", weightsID: "w")?.crop, prediction.crop)
        prediction.crop = nil
        prediction.detections = nil
        try store.predictionCache.storePrediction(prediction, imageHash: "h3", weightsID: "w")
        XCTAssertNil(try XCTUnwrap(try store.predictionCache.cachedPrediction(imageHash: "h3", weightsID: "w")).detections)
        // A row whose boxes are damaged is a miss (recomputed), never a different box.
        try store.dbWriter.write { db in
            try db.execute(sql: "UPDATE prediction_cache SET detections = '[[0.5, 0.5, 0.2, 0.9, 0.5]]' WHERE image_hash = 'h1'")
            try db.execute(sql: "UPDATE prediction_cache SET detections = 'not json' WHERE image_hash = 'h2'")
            try db.execute(sql: #"UPDATE prediction_cache SET crop = '{"region": [0.2, 0.2, 0.4, 0.4], "width": 3, "height": 3, "maps": {"hirescam": [1]}}' WHERE image_hash = 'h4'"#)
        }
        XCTAssertNil(try store.predictionCache.cachedPrediction(imageHash: "h4", weightsID: "w"), "a map of the wrong size is a miss")
        XCTAssertNil(try store.predictionCache.cachedPrediction(imageHash: "h1", weightsID: "w"))
        XCTAssertNil(try store.predictionCache.cachedPrediction(imageHash: "h2", weightsID: "w"))
    }

    // MARK: the commands, as a user runs them

    /// `predict --json` gives each box in image pixels with its score; a classifier alone gives no `boxes` key.
    func testPredictJSONHasTheBoxesInImagePixels() throws {
        let dir = RepoPaths.sample + "/test/images"
        let image = dir + "/" + (try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir).sorted().first))
        let run = try Fracview.run(["predict", "--json", "--weights", Self.shipped, image])
        XCTAssertEqual(run.status, 0, run.stderr)
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let boxes = try XCTUnwrap(line["boxes"] as? [[String: Any]])
        XCTAssertFalse(boxes.isEmpty)
        var previous = Double.infinity
        for b in boxes {
            let corners = try XCTUnwrap(b["box"] as? [Double])
            let score = try XCTUnwrap(b["score"] as? Double)
            XCTAssertEqual(corners.count, 4)
            XCTAssertTrue(corners.allSatisfy { (0...640).contains($0) } && corners[0] < corners[2] && corners[1] < corners[3], "\(corners)")
            XCTAssertTrue(score > Double(LocaliserMaps.minScore) && score <= previous, "best first, above the floor")
            previous = score
        }
        XCTAssertGreaterThan((boxes[0]["box"] as! [Double])[2], 10, "pixels, not fractions")
        let plain = try Fracview.run(["predict", "--json", "--weights", Self.tinyClassifier, image])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let plainLine = try XCTUnwrap(JSONSerialization.jsonObject(with: plain.stdout) as? [String: Any])
        XCTAssertNil(plainLine["boxes"])
        let text = try Fracview.run(["predict", "--weights", Self.shipped, image])
        XCTAssertTrue(text.output.contains("fracture box  x "), text.output)
    }

    /// `evaluate` on the bundled sample with the shipped model: the localisation section and the cases.csv boxes.
    func testEvaluateReportsLocalisationOnTheSample() throws {
        let out = tmp.appendingPathComponent("eval").path
        let run = try Fracview.run(["evaluate", RepoPaths.sample, "--weights", Self.shipped, "--json", "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let l = try XCTUnwrap(report["localisation"] as? [String: Any])
        let n = try XCTUnwrap(l["n"] as? Int)
        XCTAssertEqual(n, report["n"] as? Int, "every scored sample case has boxes")
        let hit = try XCTUnwrap(l["hit_rate"] as? Double)
        XCTAssertTrue((0...1).contains(hit))
        let text = try Fracview.run(["evaluate", RepoPaths.sample, "--weights", Self.shipped])
        XCTAssertTrue(text.output.contains("Localiser     hit (top box IoU ≥ 0.3 with a label box)"), text.output)
        let csv = try String(contentsOfFile: out + "/cases.csv", encoding: .utf8)
        let rows = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        let x0 = try XCTUnwrap(header.firstIndex(of: "box_x0")), score = try XCTUnwrap(header.firstIndex(of: "box_score"))
        let filled = rows.dropFirst().filter { !$0[x0].isEmpty }
        XCTAssertGreaterThan(filled.count, 60, "the sample's cases carry their box")
        XCTAssertTrue(filled.allSatisfy { Double($0[score]).map { $0 > 0 && $0 <= 1 } ?? false })
    }

    /// `bench` measures the whole pipeline when the model has a localiser stage, and says so in its JSON.
    func testBenchReportsThePipeline() throws {
        let run = try Fracview.run(["bench", "--weights", Self.shipped, "--json", "--runs", "30"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        XCTAssertEqual(line["localisers"] as? Int, 5)
        XCTAssertEqual(line["localiser_input_size"] as? [Int], [320, 320])
        let localiser = try XCTUnwrap(line["localiser_ms_median"] as? Double)
        let pipeline = try XCTUnwrap(line["pipeline_case_ms_median"] as? Double)
        XCTAssertGreaterThan(localiser, 0)
        XCTAssertGreaterThan(pipeline, localiser, "the pipeline runs every localiser and every classifier")
        // The members case both ways: with the maps, and forwards alone (what the peers' members case runs).
        XCTAssertGreaterThan(try XCTUnwrap(line["ensemble_case_ms_median"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(line["ensemble_forwards_ms_median"] as? Double), 0)
        let plain = try Fracview.run(["bench", "--weights", Self.tinyClassifier, "--json", "--runs", "30"])
        let plainLine = try XCTUnwrap(JSONSerialization.jsonObject(with: plain.stdout) as? [String: Any])
        XCTAssertEqual(plainLine["localisers"] as? Int, 0)
        XCTAssertTrue(plainLine["pipeline_case_ms_median"] == nil || plainLine["pipeline_case_ms_median"] is NSNull)
        XCTAssertTrue(plainLine["ensemble_forwards_ms_median"] == nil || plainLine["ensemble_forwards_ms_median"] is NSNull,
                      "one file has no members case")
    }
}
