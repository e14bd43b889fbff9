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
            let key = d.split + "/" + d.caseID
            pathOf[key] = d.caseID
            // updateValue: assigning a nil Int? through the subscript would remove the reader instead of recording a flag.
            byCase[key, default: [:]].updateValue(d.decidedClass.flatMap { $0 >= 0 && $0 < k ? $0 : nil }, forKey: d.reviewer)
            if let t = d.truth, t >= 0, t < k { truth[key] = t }
        }
        let caseKeys = byCase.keys.sorted()
        func unit(_ key: String) -> String { pathOf[key].flatMap { groups?[$0] }.map { "g:" + $0 } ?? key }
        bootstrapUnit = groups == nil ? "cases" : "groups"

        // Each reader's class per case, by index in caseKeys (-1: no read, or a flag), and the labels likewise: the
        // pairs below walk arrays, never dictionaries (300 readers make 44,850 pairs).
        let readerIndex = Dictionary(uniqueKeysWithValues: readers.enumerated().map { ($1, $0) })
        var answers = [[Int]](repeating: [Int](repeating: -1, count: caseKeys.count), count: readers.count)
        for (c, key) in caseKeys.enumerated() {
            for (reader, cls) in byCase[key]! { if let cls, let r = readerIndex[reader] { answers[r][c] = cls } }
        }
        let labels = caseKeys.map { truth[$0] ?? -1 }
        let units = caseKeys.map(unit)

        func pair(_ a: String, _ b: String, _ first: [Int], _ second: [Int]) -> Pair {
            var keys: [String] = [], x: [Int] = [], y: [Int] = []
            for c in first.indices where first[c] >= 0 && second[c] >= 0 { keys.append(units[c]); x.append(first[c]); y.append(second[c]) }
            let kappa = Self.cohenKappa(x, y, classCount: k)
            var totals = [Double](repeating: 0, count: 2 * max(k, 1))
            let ci = Self.kappaBootstrap(x, y, units: keys, classCount: k, resamples: resamples, seed: seed, totals: &totals)
            let agree = x.isEmpty ? nil : Double(zip(x, y).filter { $0 == $1 }.count) / Double(x.count)
            return Pair(first: a, second: b, cases: x.count, kappa: kappa, kappaCI: ci, percentAgreement: agree)
        }
        // Every pair's bootstrap is independent: they run on all cores, each into its own slot.
        let pairIndices = readers.indices.flatMap { i in ((i + 1)..<readers.count).map { (i, $0) } }
        let jobs = pairIndices.count + readers.count
        let computed = UnsafeMutableBufferPointer<Pair?>.allocate(capacity: jobs)
        computed.initialize(repeating: nil)
        defer { computed.deallocate() }
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            if job < pairIndices.count {
                let (i, j) = pairIndices[job]
                computed[job] = pair(readers[i], readers[j], answers[i], answers[j])
            } else {
                let r = job - pairIndices.count
                computed[job] = pair(readers[r], "dataset labels", answers[r], labels)
            }
        }
        var chosen = [Int](repeating: 0, count: k), agreed = [Int](repeating: 0, count: k)
        for (i, j) in pairIndices {
            for (p, q) in zip(answers[i], answers[j]) where p >= 0 && q >= 0 {
                chosen[p] += 1; chosen[q] += 1
                if p == q { agreed[p] += 2 }
            }
        }
        pairs = computed[..<pairIndices.count].map { $0! }
        versusLabels = computed[pairIndices.count...].map { $0! }
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
        let adjudicated = Set(rows.filter { $0.role == .adjudicator }.map { $0.split + "/" + $0.caseID })
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

    /// `bootstrap` of Cohen's κ, the same resamples and the same interval, with nothing allocated per resample: each
    /// resample's counts are accumulated as its units are drawn. The pairs of a large team make this the hot loop
    /// (issue #26 §8: 300 readers are 44,850 pairs × 2,000 resamples).
    static func kappaBootstrap(_ a: [Int], _ b: [Int], units: [String], classCount k: Int, resamples: Int, seed: UInt64,
                               totals: inout [Double]) -> ConfidenceInterval? {
        guard !units.isEmpty, resamples > 0, k > 0, totals.count >= 2 * k,
              a.allSatisfy({ (0..<k).contains($0) }), b.allSatisfy({ (0..<k).contains($0) }) else { return nil }
        var members: [String: [Int]] = [:]
        for (i, u) in units.enumerated() { members[u, default: []].append(i) }
        // The groups flattened (members, and where each group starts): drawing a group then touches no array object,
        // so the loop retains and releases nothing.
        let sortedKeys = members.keys.sorted()
        var flat: [Int] = [], starts: [Int] = [0]
        for key in sortedKeys { flat += members[key]!; starts.append(flat.count) }
        let groupCount = sortedKeys.count
        var rng = SplitMix64(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in flat.withUnsafeBufferPointer { flat in
        starts.withUnsafeBufferPointer { starts in totals.withUnsafeMutableBufferPointer { totals in
            for _ in 0..<resamples {
                for i in 0..<(2 * k) { totals[i] = 0 }
                var agree = 0.0, n = 0
                for _ in 0..<groupCount {
                    let g = rng.index(below: groupCount)
                    for m in starts[g]..<starts[g + 1] {
                        let i = flat[m], p = a[i], q = b[i]
                        totals[p] += 1; totals[k + q] += 1
                        if p == q { agree += 1 }
                        n += 1
                    }
                }
                var expected = 0.0
                for c in 0..<k { expected += totals[c] * totals[k + c] }
                expected /= Double(n) * Double(n)
                if n > 0, expected < 1 { values.append((agree / Double(n) - expected) / (1 - expected)) }
            }
        } } } } }
        guard values.count * 2 >= resamples else { return nil }
        let ends = Bootstrap.percentiles(values, [2.5, 97.5])
        return ConfidenceInterval(low: ends[0], high: ends[1])
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
        var idx: [Int] = []
        idx.reserveCapacity(units.count * 2)
        for _ in 0..<resamples {
            idx.removeAll(keepingCapacity: true)
            for _ in 0..<groups.count { idx += groups[rng.index(below: groups.count)] }
            if let v = statistic(idx) { values.append(v) }
        }
        guard values.count * 2 >= resamples else { return nil }
        let ends = Bootstrap.percentiles(values, [2.5, 97.5])
        return ConfidenceInterval(low: ends[0], high: ends[1])
    }
}
