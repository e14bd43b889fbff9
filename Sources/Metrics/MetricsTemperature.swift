import Foundation

/// Temperature scaling (Guo et al. 2017): the T > 0 that minimises the mean negative log-likelihood of
/// softmax(logits / T). Found by golden-section search on log T over [1/100, 100]: NLL(T) is smooth and, in
/// practice, unimodal there, and the search needs no derivatives.
public enum TemperatureScaling {
    /// T is searched in [1/searchLimit, searchLimit]; a result at the limit means "no finite optimum in range".
    public static let searchLimit = 100.0

    public static func nll(logits: [[Double]], truth: [Int], temperature: Double) -> Double {
        guard !truth.isEmpty else { return .nan }
        var total = 0.0
        for (z, t) in zip(logits, truth) { total -= Softmax.logProbability(z, of: t, temperature: temperature) }
        return total / Double(truth.count)
    }

    public static func fit(logits: [[Double]], truth: [Int]) -> Double? {
        guard !truth.isEmpty else { return nil }
        let f = { (u: Double) in nll(logits: logits, truth: truth, temperature: exp(u)) }
        let ratio = (sqrt(5.0) - 1) / 2
        var a = log(1.0 / searchLimit), b = log(searchLimit)
        var c = b - ratio * (b - a), d = a + ratio * (b - a)
        var fc = f(c), fd = f(d)
        while b - a > 1e-7 {
            if fc < fd { b = d; d = c; fd = fc; c = b - ratio * (b - a); fc = f(c) }
            else { a = c; c = d; fc = fd; d = a + ratio * (b - a); fd = f(d) }
        }
        return exp((a + b) / 2)
    }
}
