import Foundation
import Model

/// One case's view of one CAM method: does its maximum fall in a label box, how much of its mass lies in the boxes,
/// and its deletion score (`DeletionFaithfulness`).
public struct CAMMeasure: Sendable, Equatable {
    public var hit: Bool?
    public var mass: Double?
    public var deletion: Double?
    public init(hit: Bool?, mass: Double?, deletion: Double?) { self.hit = hit; self.mass = mass; self.deletion = deletion }
}

/// A CAM method scored over the evaluated cases (`evaluate --cam-methods`), each figure with its bootstrap CI
/// (over source groups when the cases have them).
public struct CAMMethodScore: Codable, Sendable, Equatable {
    public let method: String
    public let title: String
    public let n: Int
    public let pointingGame: Double?
    public let pointingGameCI95: ConfidenceInterval?
    public let massInBoxes: Double?
    public let massInBoxesCI95: ConfidenceInterval?
    /// Mean over the cases of p(random removal) − p(map-ordered removal): higher is more faithful.
    public let deletion: Double?
    public let deletionCI95: ConfidenceInterval?

    enum CodingKeys: String, CodingKey {
        case method, title, n, pointingGame = "pointing_game", pointingGameCI95 = "pointing_game_ci95"
        case massInBoxes = "mass_in_boxes", massInBoxesCI95 = "mass_in_boxes_ci95", deletion
        case deletionCI95 = "deletion_ci95"
    }

    /// Every registered method that the cases measured, in registry order.
    static func compare(_ cases: [EvaluatedCase], groups: [Int]?, resamples: Int, seed: UInt64) -> [CAMMethodScore] {
        CAMMethod.all.compactMap { method in
            let measured = cases.indices.filter { cases[$0].camMeasures[method.id] != nil }
            guard !measured.isEmpty else { return nil }
            func figure(_ value: (CAMMeasure) -> Double?) -> (Double?, ConfidenceInterval?) {
                let kept = measured.compactMap { i in value(cases[i].camMeasures[method.id]!).map { (i, $0) } }
                guard !kept.isEmpty else { return (nil, nil) }
                let values = kept.map(\.1)
                let ci = Bootstrap.meanInterval(values, groups: groups.map { g in kept.map { g[$0.0] } },
                                                resamples: resamples, seed: seed)
                return (values.reduce(0, +) / Double(values.count), ci)
            }
            let hit = figure { $0.hit.map { $0 ? 1 : 0 } }, mass = figure(\.mass), deletion = figure(\.deletion)
            return CAMMethodScore(method: method.id, title: method.title, n: measured.count, pointingGame: hit.0,
                                  pointingGameCI95: hit.1, massInBoxes: mass.0, massInBoxesCI95: mass.1,
                                  deletion: deletion.0, deletionCI95: deletion.1)
        }
    }
}
