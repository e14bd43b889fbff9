import Foundation

/// Numerically stable softmax and log-softmax, in Double (temperature fitting needs the precision).
public enum Softmax {
    public static func probabilities(_ logits: [Double], temperature: Double = 1) -> [Double] {
        let scaled = logits.map { $0 / temperature }
        let m = scaled.max() ?? 0
        let e = scaled.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    public static func logProbability(_ logits: [Double], of index: Int, temperature: Double = 1) -> Double {
        let scaled = logits.map { $0 / temperature }
        let m = scaled.max() ?? 0
        let lse = m + log(scaled.reduce(0) { $0 + exp($1 - m) })
        return scaled[index] - lse
    }
}
