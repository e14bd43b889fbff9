/// A percentile bootstrap 95 % confidence interval.
public struct ConfidenceInterval: Sendable, Equatable, Codable {
    public let low: Double
    public let high: Double
}

/// Bootstrap CIs for accuracy and macro-F1: resample the cases with replacement `resamples` times
/// (seeded SplitMix64, so runs are identical), take the 2.5th and 97.5th percentiles (linear interpolation,
/// as numpy.percentile does). With `groups` (a group id per case) it is a group bootstrap: each resample draws as
/// many groups as there are, with replacement, and takes every case of each, since copies of one source X-ray are
/// not independent cases.
public enum Bootstrap {
    public static let defaultResamples = 1000
    public static let defaultSeed: UInt64 = 20231007

    public static func intervals(truth: [Int], predicted: [Int], classCount: Int,
                                 resamples: Int = defaultResamples, seed: UInt64 = defaultSeed, groups: [Int]? = nil)
        -> (accuracy: ConfidenceInterval, macroF1: ConfidenceInterval)? {
        let n = truth.count
        guard n > 0, resamples > 0 else { return nil }
        let units = resamplingUnits(count: n, groups: groups)
        var rng = SplitMix64(seed: seed)
        var accuracies: [Double] = [], f1s: [Double] = []
        accuracies.reserveCapacity(resamples); f1s.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var m = ConfusionMatrix(classCount: classCount)
            for _ in 0..<units.count {
                for i in units[rng.index(below: units.count)] { m.add(truth: truth[i], predicted: predicted[i]) }
            }
            let metrics = ClassificationMetrics(matrix: m, classNames: [])
            accuracies.append(metrics.accuracy ?? 0)
            f1s.append(metrics.macroF1 ?? 0)
        }
        return (ConfidenceInterval(low: percentile(accuracies, 2.5), high: percentile(accuracies, 97.5)),
                ConfidenceInterval(low: percentile(f1s, 2.5), high: percentile(f1s, 97.5)))
    }

    /// A bootstrap CI of a mean (per-case values; with `groups`, resampling whole groups as `intervals` does).
    public static func meanInterval(_ values: [Double], groups: [Int]? = nil, resamples: Int = defaultResamples,
                                    seed: UInt64 = defaultSeed) -> ConfidenceInterval? {
        guard !values.isEmpty, resamples > 0 else { return nil }
        let units = resamplingUnits(count: values.count, groups: groups)
        var rng = SplitMix64(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0, count = 0
            for _ in 0..<units.count { for i in units[rng.index(below: units.count)] { sum += values[i]; count += 1 } }
            means.append(count > 0 ? sum / Double(count) : .nan)
        }
        return ConfidenceInterval(low: percentile(means, 2.5), high: percentile(means, 97.5))
    }

    /// The resampling units: one case each, or the cases of each group (in group order, so runs repeat).
    static func resamplingUnits(count: Int, groups: [Int]?) -> [[Int]] {
        guard let groups, groups.count == count else { return (0..<count).map { [$0] } }
        var members: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        return members.keys.sorted().map { members[$0]! }
    }

    /// numpy.percentile's default ("linear") method.
    public static func percentile(_ values: [Double], _ q: Double) -> Double { percentiles(values, [q])[0] }

    /// Several percentiles of one sample by selection (the two order statistics each needs), not a full sort: the
    /// same values as sorting, in linear time (reader agreement asks for thousands of intervals).
    public static func percentiles(_ values: [Double], _ qs: [Double]) -> [Double] {
        guard !values.isEmpty else { return qs.map { _ in .nan } }
        var s = values
        return qs.map { q in
            let pos = q / 100 * Double(s.count - 1)
            let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
            let low = select(&s, lo)
            let high = hi == lo ? low : s[(lo + 1)...].min()!
            return low + (high - low) * (pos - Double(lo))
        }
    }

    /// The k-th smallest value (0-based), leaving it at s[k] with nothing larger before it and nothing smaller after
    /// (Hoare's selection, median-of-three pivots).
    static func select(_ s: inout [Double], _ k: Int) -> Double {
        var left = 0, right = s.count - 1
        while left < right {
            let mid = left + (right - left) / 2
            if s[mid] < s[left] { s.swapAt(mid, left) }
            if s[right] < s[left] { s.swapAt(right, left) }
            if s[right] < s[mid] { s.swapAt(right, mid) }
            let pivot = s[mid]
            var i = left, j = right
            while i <= j {
                while s[i] < pivot { i += 1 }
                while pivot < s[j] { j -= 1 }
                if i <= j { s.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { right = j } else if k >= i { left = i } else { return s[k] }
        }
        return s[k]
    }
}
