import Basics
import Datasets
import Foundation
import Model

/// How well the localiser finds the fracture, against the label boxes (training/localiser.py computes the same):
/// - hit: the top box overlaps a label box with IoU ≥ 0.3;
/// - centre in box: the top box's centre lies inside a label box;
/// - AP50: class-agnostic average precision at IoU ≥ 0.5 over every box of every case (all-point interpolated, as
///   PASCAL VOC 2010+; each label box matched at most once, by the best-scoring prediction).
public enum Localisation {
    public static let hitIoU = 0.3

    /// nil without label boxes; a case where the localiser found nothing is a miss.
    public static func hit(_ top: Detection?, labels: [ImageBox]) -> Bool? {
        guard !labels.isEmpty else { return nil }
        guard let top else { return false }
        return labels.contains { top.box.iou($0) >= hitIoU }
    }

    public static func centreInBox(_ top: Detection?, labels: [ImageBox]) -> Bool? {
        guard !labels.isEmpty else { return nil }
        guard let top else { return false }
        let c = top.box.centre
        return labels.contains { $0.contains(x: c.x, y: c.y) }
    }

    /// nil when there is no label box at all.
    public static func averagePrecision(_ detections: [[Detection]], labels: [[ImageBox]], iou threshold: Double = 0.5) -> Double? {
        let total = labels.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        let flat = detections.enumerated().flatMap { i, ds in ds.map { (i, $0) } }
            .enumerated().sorted { a, b in a.element.1.score != b.element.1.score ? a.element.1.score > b.element.1.score : a.offset < b.offset }
            .map(\.element)
        var used = labels.map { [Bool](repeating: false, count: $0.count) }
        var truePositives = 0
        var precisions: [Double] = [], recalls: [Double] = []
        for (n, (i, d)) in flat.enumerated() {
            var best = 0.0, arg = -1
            for (j, t) in labels[i].enumerated() {
                let v = d.box.iou(t)
                if v > best { best = v; arg = j }
            }
            if best >= threshold, !used[i][arg] { used[i][arg] = true; truePositives += 1 }
            precisions.append(Double(truePositives) / Double(n + 1))
            recalls.append(Double(truePositives) / Double(total))
        }
        if precisions.count >= 2 {
            for k in stride(from: precisions.count - 2, through: 0, by: -1) { precisions[k] = max(precisions[k], precisions[k + 1]) }
        }
        var ap = 0.0, previous = 0.0
        for (p, r) in zip(precisions, recalls) { ap += p * (r - previous); previous = r }
        return ap
    }
}

/// `evaluate`'s localisation section: over the held-out labelled cases with boxes, each figure with its bootstrap
/// CI (over source groups when known), next to the CAM's pointing game.
public struct LocalisationScore: Codable, Sendable, Equatable {
    public let n: Int
    public let hitRate: Double?
    public let hitRateCI95: ConfidenceInterval?
    public let centreInBox: Double?
    public let centreInBoxCI95: ConfidenceInterval?
    public let ap50: Double?
    public let ap50CI95: ConfidenceInterval?
    /// Cases where the localiser found no box scoring above `LocaliserMaps.minScore`.
    public let noneFound: Int
    /// The top box's mean score on cases labelled Healthy, and on the others (what it predicts where nothing is
    /// broken).
    public let topScoreHealthy: Double?
    public let topScoreFractured: Double?
    public let hitRateByClass: [String: Double]

    enum CodingKeys: String, CodingKey {
        case n, hitRate = "hit_rate", hitRateCI95 = "hit_rate_ci95", centreInBox = "centre_in_box"
        case centreInBoxCI95 = "centre_in_box_ci95", ap50, ap50CI95 = "ap50_ci95", noneFound = "none_found"
        case topScoreHealthy = "top_score_healthy", topScoreFractured = "top_score_fractured"
        case hitRateByClass = "hit_rate_by_class"
    }

    /// The AP's bootstrap is heavier than a mean's (a sort per resample): fewer resamples.
    static let apResamples = 500

    /// nil when no case carries detections (a model without a localiser).
    init?(_ cases: [EvaluatedCase], classes: [String], groups: [Int]?, resamples: Int, seed: UInt64) {
        let kept = cases.indices.filter { cases[$0].detections != nil && !cases[$0].labelBoxes.isEmpty }
        guard !kept.isEmpty else { return nil }
        let keptGroups = groups.map { g in kept.map { g[$0] } }
        let tops = kept.map { cases[$0].detections?.first }
        let labels = kept.map { cases[$0].labelBoxes }
        let hits = zip(tops, labels).map { Localisation.hit($0, labels: $1)! ? 1.0 : 0.0 }
        let centres = zip(tops, labels).map { Localisation.centreInBox($0, labels: $1)! ? 1.0 : 0.0 }
        n = kept.count
        hitRate = hits.reduce(0, +) / Double(n)
        hitRateCI95 = Bootstrap.meanInterval(hits, groups: keptGroups, resamples: resamples, seed: seed)
        centreInBox = centres.reduce(0, +) / Double(n)
        centreInBoxCI95 = Bootstrap.meanInterval(centres, groups: keptGroups, resamples: resamples, seed: seed)
        let detections = kept.map { cases[$0].detections ?? [] }
        ap50 = Localisation.averagePrecision(detections, labels: labels)
        let units = Bootstrap.resamplingUnits(count: n, groups: keptGroups)
        var rng = SplitMix64(seed: seed)
        var aps: [Double] = []
        for _ in 0..<min(resamples, Self.apResamples) {
            var d: [[Detection]] = [], l: [[ImageBox]] = []
            for _ in 0..<units.count { for i in units[rng.index(below: units.count)] { d.append(detections[i]); l.append(labels[i]) } }
            if let ap = Localisation.averagePrecision(d, labels: l) { aps.append(ap) }
        }
        ap50CI95 = aps.isEmpty ? nil : ConfidenceInterval(low: Bootstrap.percentile(aps, 2.5), high: Bootstrap.percentile(aps, 97.5))
        noneFound = tops.filter { $0 == nil }.count
        let healthy = classes.firstIndex { ClassMapping.key($0) == ClassMapping.key("Healthy") }
        func meanScore(_ include: (Int?) -> Bool) -> Double? {
            let s = kept.filter { include(cases[$0].truth) }.map { Double(cases[$0].detections?.first?.score ?? 0) }
            return s.isEmpty ? nil : s.reduce(0, +) / Double(s.count)
        }
        topScoreHealthy = healthy.flatMap { h in meanScore { $0 == h } }
        topScoreFractured = meanScore { $0 != nil && $0 != healthy }
        var byClass: [String: Double] = [:]
        for (k, name) in classes.enumerated() {
            let of = kept.indices.filter { cases[kept[$0]].truth == k }
            if !of.isEmpty { byClass[name] = of.map { hits[$0] }.reduce(0, +) / Double(of.count) }
        }
        hitRateByClass = byClass
    }
}
