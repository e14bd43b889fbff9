import Basics
import Datasets
import Foundation
import Imaging

/// K grouped, class-stratified folds for cross-validation, in the manner of scikit-learn's StratifiedGroupKFold
/// (shuffle off): every group lands whole in one fold, and the folds' class proportions stay close.
/// Deterministic: groups are taken in a fixed order (most class-skewed first, ties by size then name) and each
/// goes to the fold where it least spreads the per-class shares, ties to the smaller fold, then the lower index.
/// Unlabelled items get no fold.
public enum GroupedFolds {
    public struct Row: Sendable, Equatable {
        public let path: String
        public let group: String
        public let classIndex: Int
        public let fold: Int
    }

    /// One row per labelled item, sorted by path.
    public static func assign(items: [GroupedSplit.Item], groups: [[Int]], classCount: Int, folds k: Int) -> [Row] {
        precondition(k >= 2 && classCount >= 1)
        struct Group { let members: [Int]; let counts: [Double]; let size: Double; let name: String; let skew: Double }
        var classTotals = [Double](repeating: 0, count: classCount)
        for item in items { if let c = item.classIndex, c < classCount { classTotals[c] += 1 } }
        let names = GroupedSplit.groupNames(groups, items: items)
        let info: [Group] = zip(groups, names).compactMap { all, name in
            let members = all.filter { items[$0].classIndex.map { $0 < classCount } ?? false }
            guard !members.isEmpty else { return nil }
            var counts = [Double](repeating: 0, count: classCount)
            for m in members { counts[items[m].classIndex!] += 1 }
            let mean = counts.reduce(0, +) / Double(classCount)
            let skew = (counts.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(classCount)).squareRoot()
            return Group(members: members, counts: counts, size: Double(members.count),
                         name: name, skew: skew)
        }
        let order = info.indices.sorted { a, b in
            let ga = info[a], gb = info[b]
            if ga.skew != gb.skew { return ga.skew > gb.skew }
            if ga.size != gb.size { return ga.size > gb.size }
            return ga.name < gb.name
        }
        var foldCounts = [[Double]](repeating: [Double](repeating: 0, count: classCount), count: k)
        var foldSizes = [Double](repeating: 0, count: k)
        var foldOf = [Int](repeating: 0, count: info.count)
        for g in order {
            var best = 0, bestSpread = Double.infinity
            for f in 0..<k {
                foldCounts[f] = zip(foldCounts[f], info[g].counts).map(+)
                let spread = meanClassSpread(foldCounts, totals: classTotals)
                foldCounts[f] = zip(foldCounts[f], info[g].counts).map(-)
                if spread < bestSpread - 1e-12 || (abs(spread - bestSpread) <= 1e-12 && foldSizes[f] < foldSizes[best]) {
                    best = f; bestSpread = spread
                }
            }
            foldOf[g] = best
            foldCounts[best] = zip(foldCounts[best], info[g].counts).map(+)
            foldSizes[best] += info[g].size
        }
        var rows: [Row] = []
        for (g, group) in info.enumerated() {
            for m in group.members {
                rows.append(Row(path: items[m].relativePath, group: group.name, classIndex: items[m].classIndex!, fold: foldOf[g]))
            }
        }
        return rows.sorted { $0.path < $1.path }
    }

    /// Mean over classes of the standard deviation, across folds, of the fold's share of that class.
    static func meanClassSpread(_ counts: [[Double]], totals: [Double]) -> Double {
        let k = Double(counts.count)
        var sum = 0.0
        for c in totals.indices where totals[c] > 0 {
            let shares = counts.map { $0[c] / totals[c] }
            let mean = shares.reduce(0, +) / k
            sum += (shares.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / k).squareRoot()
        }
        return sum / Double(max(totals.count, 1))
    }

    /// The manifest `path,group,class,fold` (class by name), read by training/ and `fracview evaluate --manifest`.
    public static func render(_ rows: [Row], classes: [String]) -> String {
        CSVTable.render([["path", "group", "class", "fold"]]
                        + rows.map { [$0.path, $0.group, classes[$0.classIndex], String($0.fold)] }, lineEnd: .lf)
    }

    public static func write(_ rows: [Row], classes: [String], to path: String) throws {
        do { try AtomicFile.write(Data(render(rows, classes: classes).utf8), to: path, creatingFolder: true) } catch {
            throw DatasetError("\(path): cannot write the folds manifest (\(error))")
        }
    }
}
