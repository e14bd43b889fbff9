import Datasets
import Foundation
import Imaging
import Inference
import Model
import PACS
import Review
import Store

/// A reviewed PACS case's findings, gathered for sending: the source instance (the instance cache, else WADO-RS),
/// the class names, and the model's box (the prediction cache, else the model itself, when its weights are the
/// ones the decision was made with). Shared by `fracview pacs send` and the review screen's `P`.
final class PACSFindingsGatherer {
    let client: DICOMwebClient
    let instanceCache: InstanceCache
    let classes: [String]
    private let predictionCache: PredictionCache?
    private let weights: String?
    private var classifier: EnsembleClassifier?
    private var modelUnavailable = false

    init(client: DICOMwebClient, instanceCache: InstanceCache, classes: [String], predictionCache: PredictionCache?, weights: String?) {
        self.client = client; self.instanceCache = instanceCache; self.classes = classes
        self.predictionCache = predictionCache; self.weights = weights
    }

    /// The findings, and a warning when the model's box could not be known.
    func findings(for d: ReviewDecision, window: (center: Double, width: Double)?) throws -> (CaseFindings, warning: String?) {
        guard let ref = DICOMwebCaseSource.instance(fromKey: d.caseID, server: client.server) else {
            throw PACSError("\(d.caseID.prefix(80)) is not a case of \(client.server.display)")
        }
        let file: (data: Data, file: String)
        if let hit = try instanceCache.load(ref.sop) {
            file = hit
        } else {
            let data = try client.retrieve(InstanceSummary(study: ref.study, series: ref.series, sop: ref.sop))
            file = (data, try instanceCache.store(data, sop: ref.sop))
        }
        let name = { (i: Int?) in i.flatMap { self.classes.indices.contains($0) ? self.classes[$0] : nil } }
        var boxes: [CaseFindings.Box] = []
        var warning: String?
        // Decoded once: the box is read in its pixels, and the model (on a cache miss) runs on it.
        let image = try? ImageDecoder.decode(data: file.data, name: ref.sop)
        if let image, let prediction = prediction(bytes: file.data, image: image, weightsID: d.weightsID) {
            // The localiser's top box: the one the screen draws.
            boxes = (prediction.detections ?? []).prefix(1).map { det in
                let p = det.pixelValues(width: image.width, height: image.height)
                return CaseFindings.Box(x0: p[0], y0: p[1], x1: p[2], y1: p[3], score: p[4])
            }
        } else if !d.weightsID.isEmpty {
            warning = "\(ref.sop): the model's box is not known here (no cached prediction for weights \(d.weightsID.prefix(12)))"
        }
        let probability = d.predicted.flatMap { d.probabilities.indices.contains($0) ? Double(d.probabilities[$0]) : nil }
        return (CaseFindings(study: ref.study, series: ref.series, sop: ref.sop, sourceFile: file.file,
                             modelClass: name(d.predicted), modelProbability: probability ?? 0,
                             decision: d.status.rawValue, decidedClass: name(d.decidedClass), reviewer: d.reviewer,
                             role: d.role.rawValue, decidedAt: d.reviewedAt, softwareVersion: FracviewVersion.current,
                             weightsID: d.weightsID, modelBoxes: boxes, labelBoxes: [], window: window), warning)
    }

    private func prediction(bytes: Data, image: RGBImage, weightsID: String) -> Prediction? {
        guard !weightsID.isEmpty else { return nil }
        if let cached = try? predictionCache?.cachedPrediction(imageHash: ContentDigest.sha256Hex(bytes), weightsID: weightsID) {
            return cached
        }
        if classifier == nil && !modelUnavailable {
            if let ensemble = try? ModelLoading.loadEnsemble(weights) { classifier = EnsembleClassifier(ensemble) } else { modelUnavailable = true }
        }
        guard let classifier, classifier.inferenceSpec.weightsID == weightsID else { return nil }
        return classifier.runHeldOut(PreparedInput(image: image, spec: classifier.inferenceSpec), maps: .none)
    }
}

/// `P` on the review screen: the current case's decision, with the window on screen, to the PACS.
final class PACSCaseSender: FindingsSending {
    private let gatherer: PACSFindingsGatherer
    private let sender: FindingsSender
    private let store: DecisionStore
    private let keys: [String]
    private let reviewer: String, role: ReviewRole, split: String
    private let lock = NSLock()

    init(gatherer: PACSFindingsGatherer, store: DecisionStore, cases: [DatasetCase], reviewer: String, role: ReviewRole, split: String) {
        self.gatherer = gatherer
        self.sender = FindingsSender(client: gatherer.client, cache: gatherer.instanceCache)
        self.store = store; self.keys = cases.map(\.relativePath)
        self.reviewer = reviewer; self.role = role; self.split = split
    }

    func send(case index: Int, window: (center: Double, width: Double)?) throws -> String {
        lock.lock(); defer { lock.unlock() }   // one send at a time: the ledger is one file
        guard keys.indices.contains(index),
              let decision = try store.decisions(reviewer: reviewer, role: role, split: split)[keys[index]] else {
            throw PACSError("this case has no decision of \(reviewer) yet")
        }
        let (findings, warning) = try gatherer.findings(for: decision, window: window)
        let report = try sender.send([findings])
        if let why = report.failed.values.first { throw PACSError(why) }
        let what = report.unchanged > 0 ? "already sent, sent again unchanged" : (report.superseding > 0 ? "sent, superseding the earlier SR" : "sent")
        return "PACS: \(what): SR + presentation state\(window != nil ? " with this window" : "")" + (warning.map { " · \($0)" } ?? "")
    }
}
