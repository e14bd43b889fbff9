import Foundation

/// One case's model output, as evaluation consumes it.
public struct EvaluatedCase: Sendable {
    public let relativePath: String
    /// nil: unlabelled (excluded from the metrics, counted).
    public let truth: Int?
    public let logits: [Double]
    public init(relativePath: String, truth: Int?, logits: [Double]) {
        self.relativePath = relativePath; self.truth = truth; self.logits = logits
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

    enum CodingKeys: String, CodingKey {
        case dataset, split, classes, n, unlabelled, undecodable, accuracy, errors, ece, reliability, nll, temperature
        case weightsID = "weights_id", macroPrecision = "macro_precision", macroRecall = "macro_recall"
        case macroF1 = "macro_f1", weightedPrecision = "weighted_precision", weightedRecall = "weighted_recall"
        case weightedF1 = "weighted_f1", perClass = "per_class", confusionMatrix = "confusion_matrix"
        case criticalErrors = "critical_errors", top2Accuracy = "top2_accuracy", accuracyCI95 = "accuracy_ci95"
        case macroF1CI95 = "macro_f1_ci95", bootstrapResamples = "bootstrap_resamples", bootstrapSeed = "bootstrap_seed"
        case temperatureNote = "temperature_note", eceAfterTemperature = "ece_after_temperature"
        case nllAfterTemperature = "nll_after_temperature", errorsByConfidence = "errors_by_confidence"
    }

    /// Computes every metric. `validation` (the valid split's outcomes) is used only to fit the temperature.
    public init(cases: [EvaluatedCase], classes: [String], validation: [EvaluatedCase]?, validationNote: String? = nil,
                dataset: String = "", split: String = "", weightsID: String = "",
                resamples: Int = Bootstrap.defaultResamples, seed: UInt64 = Bootstrap.defaultSeed) {
        let scored = cases.filter { $0.truth != nil }
        let truth = scored.map { $0.truth! }
        let probabilities = scored.map { Softmax.probabilities($0.logits) }
        let predicted = probabilities.map { TopKAccuracy.topK($0, k: 1)[0] }
        let matrix = ConfusionMatrix(truth: truth, predicted: predicted, classCount: classes.count)
        let metrics = ClassificationMetrics(matrix: matrix, classNames: classes)
        self.dataset = dataset; self.split = split; self.weightsID = weightsID
        self.classes = classes
        n = scored.count
        unlabelled = cases.filter { $0.truth == nil }.map(\.relativePath)
        undecodable = []
        accuracy = metrics.accuracy
        macroPrecision = metrics.macroPrecision; macroRecall = metrics.macroRecall; macroF1 = metrics.macroF1
        weightedPrecision = metrics.weightedPrecision; weightedRecall = metrics.weightedRecall; weightedF1 = metrics.weightedF1
        perClass = metrics.classes
        confusionMatrix = matrix.counts
        errors = matrix.errors
        criticalErrors = CriticalErrorPair.count(in: matrix, classNames: classes)
        top2Accuracy = TopKAccuracy.accuracy(probabilities: probabilities, truth: truth, k: 2)
        let ci = Bootstrap.intervals(truth: truth, predicted: predicted, classCount: classes.count,
                                     resamples: resamples, seed: seed)
        accuracyCI95 = ci?.accuracy; macroF1CI95 = ci?.macroF1
        bootstrapResamples = resamples; bootstrapSeed = seed
        let calibration = Calibration(probabilities: probabilities, truth: truth)
        ece = calibration.ece; reliability = calibration.bins
        let logits = scored.map(\.logits)
        nll = scored.isEmpty ? nil : TemperatureScaling.nll(logits: logits, truth: truth, temperature: 1)

        let valid = (validation ?? []).filter { $0.truth != nil }
        if let t = TemperatureScaling.fit(logits: valid.map(\.logits), truth: valid.map { $0.truth! }) {
            temperature = t
            temperatureNote = "fitted on \(valid.count) labelled valid cases (minimum NLL)"
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
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}
