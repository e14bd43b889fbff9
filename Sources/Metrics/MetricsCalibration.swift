/// One bin of a reliability diagram.
public struct CalibrationBin: Sendable, Equatable, Codable {
    public let lower: Double
    public let upper: Double
    public let count: Int
    /// Mean confidence and accuracy of the bin's cases; nil for an empty bin.
    public let confidence: Double?
    public let accuracy: Double?
}

/// Expected calibration error: cases binned by their top probability into equal-width bins (lower, upper]
/// (bin 0 includes 0), ECE = Σ (bin share) · |accuracy − confidence|, as in Guo et al. 2017.
public struct Calibration: Sendable, Equatable, Codable {
    public static let defaultBins = 15
    public let ece: Double?
    public let bins: [CalibrationBin]

    public init(probabilities: [[Double]], truth: [Int], binCount: Int = defaultBins) {
        var counts = [Int](repeating: 0, count: binCount)
        var confSum = [Double](repeating: 0, count: binCount), hitSum = [Double](repeating: 0, count: binCount)
        for (p, t) in zip(probabilities, truth) {
            let top = TopKAccuracy.topK(p, k: 1)[0]
            let conf = p[top]
            // (lower, upper]: bin = ceil(conf·B) − 1, clamped.
            let b = min(max(Int((conf * Double(binCount)).rounded(.up)) - 1, 0), binCount - 1)
            counts[b] += 1; confSum[b] += conf; hitSum[b] += top == t ? 1 : 0
        }
        let n = Double(truth.count)
        bins = (0..<binCount).map { b in
            CalibrationBin(lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount), count: counts[b],
                           confidence: counts[b] > 0 ? confSum[b] / Double(counts[b]) : nil,
                           accuracy: counts[b] > 0 ? hitSum[b] / Double(counts[b]) : nil)
        }
        ece = truth.isEmpty ? nil : bins.reduce(0) { acc, bin in
            guard let c = bin.confidence, let a = bin.accuracy else { return acc }
            return acc + Double(bin.count) / n * abs(a - c)
        }
    }
}
