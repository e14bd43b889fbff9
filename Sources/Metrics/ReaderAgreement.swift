import Foundation
import Store

/// How far readers agree with each other and with the dataset labels (`fracview agreement`).
///
/// - Cohen's κ for every pair of readers and between each reader and the dataset labels, on the cases both gave a
///   class (a flag names no class and is left out), as scikit-learn's `cohen_kappa_score` computes it.
/// - Fleiss' κ on the cases every reader gave a class, as statsmodels' `fleiss_kappa` computes it.
/// - Percent agreement: per pair, and the share of those cases where all readers agree.
/// - Per-class (specific) agreement, pooled over reader pairs: 2·(both chose k) / (times either chose k).
/// - Percentile 95 % bootstrap CIs, resampling cases, or the groups of a folds manifest when given
///   (copies of one X-ray are not independent cases).
/// Only reader rows count; adjudicator rows are the settled answers, counted separately.
public struct ReaderAgreement: Codable, Equatable, Sendable {
    public struct Pair: Codable, Equatable, Sendable {
        public let first: String, second: String
        /// Cases both gave a class.
        public let cases: Int
        public let kappa: Double?
        public let kappaCI: ConfidenceInterval?
        public let percentAgreement: Double?
    }
    public struct Fleiss: Codable, Equatable, Sendable {
        public let readers: Int
        public let cases: Int
        public let kappa: Double?
        public let kappaCI: ConfidenceInterval?
        /// Share of these cases where every reader chose the same class.
        public let allAgree: Double?
    }
    public struct ClassAgreement: Codable, Equatable, Sendable {
        public let className: String
        /// Times a reader of a pair chose this class, over all pairs' common cases.
        public let choices: Int
        public let specificAgreement: Double?
    }

    public let split: String?
    public let readers: [String]
    /// Reader rows by read mode ("open", "blind", "blind-model").
    public let readsByMode: [String: Int]
    public let pairs: [Pair]
    public let versusLabels: [Pair]
    public let fleiss: Fleiss?
    public let perClass: [ClassAgreement]
    /// Cases (split/path) that exactly one reader read.
    public let singleReaderCases: [String]
    /// Cases that two or more readers read.
    public let multiReaderCases: Int
    /// Cases where readers disagree, and how many of them an adjudicator settled.
    public let disputedCases: Int
    public let adjudicatedDisputes: Int
    /// "cases", or "groups" when a manifest's groups were resampled.
    public let bootstrapUnit: String
    public let resamples: Int
    public let seed: UInt64

    /// `groups`: relative path → group id (a folds manifest's), for a group bootstrap; a case it lacks is its own unit.
    public init(decisions: [ReviewDecision], classes: [String], split: String? = nil, groups: [String: String]? = nil,
                resamples: Int = Bootstrap.defaultResamples, seed: UInt64 = Bootstrap.defaultSeed) {
        self.split = split
        self.resamples = resamples
        self.seed = seed
        let rows = decisions.filter { split == nil || $0.split == split }
        let reads = rows.filter { $0.role == .reader }
        let k = classes.count
        let readers = Array(Set(reads.map(\.reviewer))).sorted()
        self.readers = readers
        readsByMode = Dictionary(grouping: reads, by: \.readMode.rawValue).mapValues(\.count)

        // Case → reader → class (nil = flagged), and each case's dataset label.
        var byCase: [String: [String: Int?]] = [:]
        var truth: [String: Int] = [:], pathOf: [String: String] = [:]
        for d in reads {
            let key = d.split + "/" + d.relativePath
            pathOf[key] = d.relativePath
            // updateValue: assigning a nil Int? through the subscript would remove the reader instead of recording a flag.
            byCase[key, default: [:]].updateValue(d.decidedClass.flatMap { $0 >= 0 && $0 < k ? $0 : nil }, forKey: d.reviewer)
            if let t = d.truth, t >= 0, t < k { truth[key] = t }
        }
        let caseKeys = byCase.keys.sorted()
        func unit(_ key: String) -> String { pathOf[key].flatMap { groups?[$0] }.map { "g:" + $0 } ?? key }
        bootstrapUnit = groups == nil ? "cases" : "groups"

        func pair(_ a: String, _ b: String, _ labelsOf: (String) -> (Int, Int)?) -> Pair {
            var keys: [String] = [], x: [Int] = [], y: [Int] = []
            for key in caseKeys { if let (p, q) = labelsOf(key) { keys.append(key); x.append(p); y.append(q) } }
            let kappa = Self.cohenKappa(x, y, classCount: k)
            let ci = Self.bootstrap(units: keys.map(unit), resamples: resamples, seed: seed) { idx in
                Self.cohenKappa(idx.map { x[$0] }, idx.map { y[$0] }, classCount: k)
            }
            let agree = x.isEmpty ? nil : Double(zip(x, y).filter { $0 == $1 }.count) / Double(x.count)
            return Pair(first: a, second: b, cases: x.count, kappa: kappa, kappaCI: ci, percentAgreement: agree)
        }
        var pairs: [Pair] = []
        var chosen = [Int](repeating: 0, count: k), agreed = [Int](repeating: 0, count: k)
        for (i, a) in readers.enumerated() {
            for b in readers[(i + 1)...] {
                pairs.append(pair(a, b) { key in
                    guard let p = byCase[key]?[a] ?? nil, let q = byCase[key]?[b] ?? nil else { return nil }
                    return (p, q)
                })
                for key in caseKeys {
                    guard let p = byCase[key]?[a] ?? nil, let q = byCase[key]?[b] ?? nil else { continue }
                    chosen[p] += 1; chosen[q] += 1
                    if p == q { agreed[p] += 2 }
                }
            }
        }
        self.pairs = pairs
        versusLabels = readers.map { a in
            pair(a, "dataset labels") { key in
                guard let p = byCase[key]?[a] ?? nil, let t = truth[key] else { return nil }
                return (p, t)
            }
        }
        perClass = classes.indices.map { c in
            ClassAgreement(className: classes[c], choices: chosen[c],
                           specificAgreement: chosen[c] == 0 ? nil : Double(agreed[c]) / Double(chosen[c]))
        }

        // Fleiss: the cases that every reader gave a class.
        if readers.count >= 2 {
            var keys: [String] = [], table: [[Int]] = []
            for key in caseKeys {
                let answers = readers.compactMap { byCase[key]?[$0] ?? nil }
                guard answers.count == readers.count else { continue }
                var row = [Int](repeating: 0, count: k)
                for a in answers { row[a] += 1 }
                keys.append(key); table.append(row)
            }
            let ci = Self.bootstrap(units: keys.map(unit), resamples: resamples, seed: seed) { idx in
                Self.fleissKappa(idx.map { table[$0] })
            }
            fleiss = Fleiss(readers: readers.count, cases: table.count, kappa: Self.fleissKappa(table), kappaCI: ci,
                            allAgree: table.isEmpty ? nil
                                : Double(table.filter { $0.contains(readers.count) }.count) / Double(table.count))
        } else {
            fleiss = nil
        }

        singleReaderCases = caseKeys.filter { byCase[$0]!.count == 1 }
        multiReaderCases = caseKeys.filter { byCase[$0]!.count >= 2 }.count
        let disputes = Set(caseKeys.filter { TeamReads.disagree(Array(byCase[$0]!.values)) })
        disputedCases = disputes.count
        let adjudicated = Set(rows.filter { $0.role == .adjudicator }.map { $0.split + "/" + $0.relativePath })
        adjudicatedDisputes = disputes.intersection(adjudicated).count
    }

    // MARK: the statistics

    /// Cohen's κ of two raters' classes (scikit-learn's `cohen_kappa_score`, unweighted); nil when it is undefined
    /// (no cases, or chance agreement 1: both always chose one and the same class).
    public static func cohenKappa(_ a: [Int], _ b: [Int], classCount k: Int) -> Double? {
        let n = a.count
        guard n > 0, b.count == n, k > 0 else { return nil }
        var rowTotals = [Double](repeating: 0, count: k), colTotals = rowTotals
        var agree = 0.0
        for (p, q) in zip(a, b) {
            guard p >= 0, p < k, q >= 0, q < k else { return nil }
            rowTotals[p] += 1; colTotals[q] += 1
            if p == q { agree += 1 }
        }
        let observed = agree / Double(n)
        let expected = zip(rowTotals, colTotals).reduce(0.0) { $0 + $1.0 * $1.1 } / (Double(n) * Double(n))
        guard expected < 1 else { return nil }
        return (observed - expected) / (1 - expected)
    }

    /// Fleiss' κ of a cases × classes table of counts, the same number of raters on every case (statsmodels'
    /// `fleiss_kappa`, method "fleiss"); nil when undefined.
    public static func fleissKappa(_ table: [[Int]]) -> Double? {
        guard let first = table.first, !first.isEmpty else { return nil }
        let raters = first.reduce(0, +)
        guard raters >= 2, table.allSatisfy({ $0.count == first.count && $0.reduce(0, +) == raters }) else { return nil }
        let n = Double(table.count), r = Double(raters)
        var classTotals = [Double](repeating: 0, count: first.count)
        var meanAgreement = 0.0
        for row in table {
            var squares = 0.0
            for (j, c) in row.enumerated() { classTotals[j] += Double(c); squares += Double(c * c) }
            meanAgreement += (squares - r) / (r * (r - 1))
        }
        meanAgreement /= n
        let expected = classTotals.reduce(0.0) { $0 + ($1 / (n * r)) * ($1 / (n * r)) }
        guard expected < 1 else { return nil }
        return (meanAgreement - expected) / (1 - expected)
    }

    /// A percentile bootstrap of a statistic over resampled units (cases, or groups of cases); resamples where the
    /// statistic is undefined are skipped. nil when fewer than half the resamples give a value.
    static func bootstrap(units: [String], resamples: Int, seed: UInt64, _ statistic: ([Int]) -> Double?) -> ConfidenceInterval? {
        guard !units.isEmpty, resamples > 0 else { return nil }
        var members: [String: [Int]] = [:]
        for (i, u) in units.enumerated() { members[u, default: []].append(i) }
        let groups = members.keys.sorted().map { members[$0]! }
        var rng = SplitMix64(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var idx: [Int] = []
            for _ in 0..<groups.count { idx += groups[rng.index(below: groups.count)] }
            if let v = statistic(idx) { values.append(v) }
        }
        guard values.count * 2 >= resamples else { return nil }
        return ConfidenceInterval(low: Bootstrap.percentile(values, 2.5), high: Bootstrap.percentile(values, 97.5))
    }
}
