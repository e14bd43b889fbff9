import Foundation
import Imaging
import Inference
import Model

/// Does a CAM method point at what the model used? The deletion test of RISE (Petsiuk, Das & Saenko, "RISE:
/// Randomized Input Sampling for Explanation of Black-box Models", BMVC 2018): remove the input pixels the map ranks
/// most relevant first, and watch the predicted class's probability fall; compare with removing the same number of
/// pixels in a random order. A removed pixel is set to the normalisation mean (0 in the model's input), the
/// "remove" step of ROAD (Rong et al., ICML 2022) without its noisy imputation.
///
/// The score of one case: mean over `fractions` of p(random removal) − p(map-ordered removal), the probability of
/// the class predicted on the intact image. Higher is more faithful; about 0 means no better than chance.
public enum DeletionFaithfulness {
    public static let fractions: [Double] = [0.05, 0.1, 0.2, 0.4]

    /// A random order of the pixels, seeded by the case, so every method's ties and the baseline are reproducible.
    static func randomOrder(count: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
        return order
    }

    /// The probability of `target` after removing the first fraction·n pixels of `order`, for each fraction.
    static func curve(_ classifier: CaseClassifier, input: [Float], plane: Int, order: [Int], target: Int,
                      members: Membership) -> [Double] {
        fractions.map { f in
            var x = input
            for i in order.prefix(Int((f * Double(plane)).rounded())) { x[i] = 0; x[plane + i] = 0; x[2 * plane + i] = 0 }
            let p = classifier.run(input: x, members: members).probabilities
            return target < p.count ? Double(p[target]) : 0
        }
    }

    /// Each method's score on one case (the model's input, CHW normalised, width×height).
    public static func scores(_ classifier: CaseClassifier, input: [Float], width: Int, height: Int, prediction: Prediction,
                              methods: [CAMMethod], seed: UInt64) -> [String: Double] {
        let plane = width * height
        let random = randomOrder(count: plane, seed: seed)
        let target = prediction.predicted
        let baseline = curve(classifier, input: input, plane: plane, order: random, target: target, members: prediction.membership)
        var rank = [Int](repeating: 0, count: plane)
        for (r, i) in random.enumerated() { rank[i] = r }
        var out: [String: Double] = [:]
        for method in methods {
            guard let map = prediction.map(method) else { continue }
            // Resized as the notebook's figure does (cv2 INTER_LINEAR).
            let relevance = Resize.map(map.values, width: map.width, height: map.height, toWidth: width, toHeight: height)
            // Most relevant first; equal relevance (a ReLU's zeros) in the random order.
            let order = (0..<plane).sorted { relevance[$0] != relevance[$1] ? relevance[$0] > relevance[$1] : rank[$0] < rank[$1] }
            let ordered = curve(classifier, input: input, plane: plane, order: order, target: target, members: prediction.membership)
            out[method.id] = zip(baseline, ordered).map { $0 - $1 }.reduce(0, +) / Double(fractions.count)
        }
        return out
    }
}
