import Basics
import Foundation
import Model

/// One case's model output, as evaluation consumes it.
public struct EvaluatedCase: Sendable {
    public let relativePath: String
    /// nil: unlabelled (excluded from the metrics, counted).
    public let truth: Int?
    public let logits: [Double]
    /// The case's source group (from a manifest's `group` column): the bootstrap resamples groups when known.
    public var group: String?
    /// Every member of the model has seen it in training: excluded from the metrics, counted.
    public var seen = false
    /// The pointing game on this case (nil: no boxes or no CAM), and the CAM's mass inside the boxes.
    public var pointingHit: Bool?
    public var camMassInBoxes: Double?
    /// With `evaluate --cam-methods`: every compared method's pointing game, mass in boxes and deletion score.
    public var camMeasures: [String: CAMMeasure] = [:]
    /// Where the Grad-CAM's maximum lies, in image pixels (the centre of its cell); nil without a map.
    public var camPeak: (x: Double, y: Double)?
    /// The localiser's boxes (nil: the model has none), the label boxes they are scored against, and the image's
    /// size in pixels (for the boxes in pixels in `cases.csv`).
    public var detections: [Detection]?
    public var labelBoxes: [ImageBox] = []
    public var imageSize: (width: Int, height: Int)?
    public init(relativePath: String, truth: Int?, logits: [Double], group: String? = nil, seen: Bool = false,
                pointingHit: Bool? = nil, camMassInBoxes: Double? = nil) {
        self.relativePath = relativePath; self.truth = truth; self.logits = logits; self.group = group
        self.seen = seen; self.pointingHit = pointingHit; self.camMassInBoxes = camMassInBoxes
    }
}

/// The pointing game of one class, or of all.
public struct PointingScore: Codable, Sendable, Equatable {
    public let n: Int
    public let hitRate: Double?
    public let camMassInBoxes: Double?
    enum CodingKeys: String, CodingKey { case n, hitRate = "hit_rate", camMassInBoxes = "cam_mass_in_boxes" }

    init(_ cases: [EvaluatedCase]) {
        let hits = cases.compactMap(\.pointingHit)
        let mass = cases.compactMap(\.camMassInBoxes)
        n = hits.count
        hitRate = hits.isEmpty ? nil : Double(hits.filter { $0 }.count) / Double(hits.count)
        camMassInBoxes = mass.isEmpty ? nil : mass.reduce(0, +) / Double(mass.count)
    }
}

/// A misclassified case in the report.
public struct ReportedError: Codable, Sendable, Equatable {
    public let path: String
    public let truth: String
    public let predicted: String
    public let confidence: Double
}

/// Everything `fracview evaluate` reports. JSON keys are snake_case.
public struct EvaluationReport: Codable, Sendable {
    public var dataset: String
    public var split: String
    public var weightsID: String
    public let classes: [String]
    /// Labelled cases scored.
    public let n: Int
    /// Cases left out: unlabelled, or their image failed to decode.
    public let unlabelled: [String]
    public var undecodable: [String]
    public let accuracy: Double?
    public let macroPrecision: Double?
    public let macroRecall: Double?
    public let macroF1: Double?
    public let weightedPrecision: Double?
    public let weightedRecall: Double?
    public let weightedF1: Double?
    public let perClass: [ClassMetrics]
    public let confusionMatrix: [[Int]]
    public let errors: Int
    public let criticalErrors: [CriticalErrorPair]
    public let top2Accuracy: Double?
    public let accuracyCI95: ConfidenceInterval?
    public let macroF1CI95: ConfidenceInterval?
    public let bootstrapResamples: Int
    public let bootstrapSeed: UInt64
    public let ece: Double?
    public let reliability: [CalibrationBin]
    public let nll: Double?
    /// Fitted on the valid split's logits; nil when there is none (see `temperatureNote`).
    public let temperature: Double?
    public let temperatureNote: String
    /// ECE and NLL of this split after dividing the logits by `temperature`.
    public let eceAfterTemperature: Double?
    public let nllAfterTemperature: Double?
    public let errorsByConfidence: [ReportedError]
    /// Cases scored (held-out for the model) and cases left out because every member had seen them.
    public let heldOut: Int
    public let seen: Int
    public let seenCases: [String]
    /// "group bootstrap" when every scored case has a group (resampling source groups), else "bootstrap".
    public let ciMethod: String
    public let groups: Int?
    /// Over the held-out labelled cases with boxes; per class by the dataset label.
    public let pointingGame: PointingScore
    public let pointingGameByClass: [String: PointingScore]
    /// `evaluate --cam-methods`: the methods compared on the scored cases (empty otherwise).
    public let camMethods: [CAMMethodScore]
    /// The localiser's figures on the held-out labelled cases with boxes; nil for a model without a localiser.
    public let localisation: LocalisationScore?

    enum CodingKeys: String, CodingKey {
        case dataset, split, classes, n, unlabelled, undecodable, accuracy, errors, ece, reliability, nll, temperature
        case weightsID = "weights_id", macroPrecision = "macro_precision", macroRecall = "macro_recall"
        case macroF1 = "macro_f1", weightedPrecision = "weighted_precision", weightedRecall = "weighted_recall"
        case weightedF1 = "weighted_f1", perClass = "per_class", confusionMatrix = "confusion_matrix"
        case criticalErrors = "critical_errors", top2Accuracy = "top2_accuracy", accuracyCI95 = "accuracy_ci95"
        case macroF1CI95 = "macro_f1_ci95", bootstrapResamples = "bootstrap_resamples", bootstrapSeed = "bootstrap_seed"
        case temperatureNote = "temperature_note", eceAfterTemperature = "ece_after_temperature"
        case nllAfterTemperature = "nll_after_temperature", errorsByConfidence = "errors_by_confidence"
        case heldOut = "held_out", seen, seenCases = "seen_cases", ciMethod = "ci_method", groups
        case pointingGame = "pointing_game", pointingGameByClass = "pointing_game_by_class", camMethods = "cam_methods"
        case localisation
    }

    /// Computes every metric. `validation` (the valid split's outcomes) is used only to fit the temperature.
    public init(cases: [EvaluatedCase], classes: [String], validation: [EvaluatedCase]?, validationNote: String? = nil,
                dataset: String = "", split: String = "", weightsID: String = "",
                resamples: Int = Bootstrap.defaultResamples, seed: UInt64 = Bootstrap.defaultSeed) {
        heldOut = cases.filter { !$0.seen }.count
        seen = cases.count - heldOut
        seenCases = cases.filter(\.seen).map(\.relativePath)
        let scored = cases.filter { $0.truth != nil && !$0.seen }
        let truth = scored.map { $0.truth! }
        let probabilities = scored.map { Softmax.probabilities($0.logits) }
        let predicted = probabilities.map { TopKAccuracy.topK($0, k: 1)[0] }
        let matrix = ConfusionMatrix(truth: truth, predicted: predicted, classCount: classes.count)
        let metrics = ClassificationMetrics(matrix: matrix, classNames: classes)
        self.dataset = dataset; self.split = split; self.weightsID = weightsID
        self.classes = classes
        n = scored.count
        unlabelled = cases.filter { $0.truth == nil && !$0.seen }.map(\.relativePath)
        undecodable = []
        accuracy = metrics.accuracy
        macroPrecision = metrics.macroPrecision; macroRecall = metrics.macroRecall; macroF1 = metrics.macroF1
        weightedPrecision = metrics.weightedPrecision; weightedRecall = metrics.weightedRecall; weightedF1 = metrics.weightedF1
        perClass = metrics.classes
        confusionMatrix = matrix.counts
        errors = matrix.errors
        criticalErrors = CriticalErrorPair.count(in: matrix, classNames: classes)
        top2Accuracy = TopKAccuracy.accuracy(probabilities: probabilities, truth: truth, k: 2)
        let groupNames = scored.map(\.group)
        let grouped = !scored.isEmpty && groupNames.allSatisfy { $0 != nil }
        var groupIDs: [Int]?
        if grouped {
            var ids: [String: Int] = [:]
            groupIDs = groupNames.map { name in ids[name!] ?? { ids[name!] = ids.count; return ids.count - 1 }() }
            groups = ids.count
        } else {
            groups = nil
        }
        ciMethod = grouped ? "group bootstrap" : "bootstrap"
        pointingGame = PointingScore(scored)
        var byClass: [String: PointingScore] = [:]
        for (k, name) in classes.enumerated() {
            let of = scored.filter { $0.truth == k && $0.pointingHit != nil }
            if !of.isEmpty { byClass[name] = PointingScore(of) }
        }
        pointingGameByClass = byClass
        camMethods = CAMMethodScore.compare(scored, groups: groupIDs, resamples: resamples, seed: seed)
        localisation = LocalisationScore(scored, classes: classes, groups: groupIDs, resamples: resamples, seed: seed)
        let ci = Bootstrap.intervals(truth: truth, predicted: predicted, classCount: classes.count,
                                     resamples: resamples, seed: seed, groups: groupIDs)
        accuracyCI95 = ci?.accuracy; macroF1CI95 = ci?.macroF1
        bootstrapResamples = resamples; bootstrapSeed = seed
        let calibration = Calibration(probabilities: probabilities, truth: truth)
        ece = calibration.ece; reliability = calibration.bins
        let logits = scored.map(\.logits)
        nll = scored.isEmpty ? nil : TemperatureScaling.nll(logits: logits, truth: truth, temperature: 1)

        let valid = (validation ?? []).filter { $0.truth != nil && !$0.seen }
        if let t = TemperatureScaling.fit(logits: valid.map(\.logits), truth: valid.map { $0.truth! }) {
            temperature = t
            let atLimit = t > TemperatureScaling.searchLimit * 0.99 || t < 1.01 / TemperatureScaling.searchLimit
            temperatureNote = "fitted on \(valid.count) labelled valid cases (minimum NLL)"
                + (atLimit ? "; at the search limit, the model's confidence carries almost no information" : "")
            let scaled = logits.map { Softmax.probabilities($0, temperature: t) }
            eceAfterTemperature = scored.isEmpty ? nil : Calibration(probabilities: scaled, truth: truth).ece
            nllAfterTemperature = scored.isEmpty ? nil : TemperatureScaling.nll(logits: logits, truth: truth, temperature: t)
        } else {
            temperature = nil
            temperatureNote = validationNote ?? "no valid split in this dataset: temperature not fitted"
            eceAfterTemperature = nil; nllAfterTemperature = nil
        }
        errorsByConfidence = ErrorRanking.rank(probabilities: probabilities, truth: truth).map { e in
            ReportedError(path: scored[e.index].relativePath, truth: classes[e.truth], predicted: classes[e.predicted],
                          confidence: e.confidence)
        }
    }


    /// Explicit nulls: a missing value (e.g. no valid split for the temperature) stays visible in the JSON.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(split, forKey: .split)
        try c.encode(weightsID, forKey: .weightsID)
        try c.encode(classes, forKey: .classes)
        try c.encode(n, forKey: .n)
        try c.encode(unlabelled, forKey: .unlabelled)
        try c.encode(undecodable, forKey: .undecodable)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(macroPrecision, forKey: .macroPrecision)
        try c.encode(macroRecall, forKey: .macroRecall)
        try c.encode(macroF1, forKey: .macroF1)
        try c.encode(weightedPrecision, forKey: .weightedPrecision)
        try c.encode(weightedRecall, forKey: .weightedRecall)
        try c.encode(weightedF1, forKey: .weightedF1)
        try c.encode(perClass, forKey: .perClass)
        try c.encode(confusionMatrix, forKey: .confusionMatrix)
        try c.encode(errors, forKey: .errors)
        try c.encode(criticalErrors, forKey: .criticalErrors)
        try c.encode(top2Accuracy, forKey: .top2Accuracy)
        try c.encode(accuracyCI95, forKey: .accuracyCI95)
        try c.encode(macroF1CI95, forKey: .macroF1CI95)
        try c.encode(bootstrapResamples, forKey: .bootstrapResamples)
        try c.encode(bootstrapSeed, forKey: .bootstrapSeed)
        try c.encode(ece, forKey: .ece)
        try c.encode(reliability, forKey: .reliability)
        try c.encode(nll, forKey: .nll)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(temperatureNote, forKey: .temperatureNote)
        try c.encode(eceAfterTemperature, forKey: .eceAfterTemperature)
        try c.encode(nllAfterTemperature, forKey: .nllAfterTemperature)
        try c.encode(errorsByConfidence, forKey: .errorsByConfidence)
        try c.encode(heldOut, forKey: .heldOut)
        try c.encode(seen, forKey: .seen)
        try c.encode(seenCases, forKey: .seenCases)
        try c.encode(ciMethod, forKey: .ciMethod)
        try c.encode(groups, forKey: .groups)
        try c.encode(pointingGame, forKey: .pointingGame)
        try c.encode(pointingGameByClass, forKey: .pointingGameByClass)
        try c.encode(camMethods, forKey: .camMethods)
        try c.encode(localisation, forKey: .localisation)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}
