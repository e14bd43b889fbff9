import Basics
import Foundation
import Imaging

/// What the source grouping did: how many groups, their sizes, the largest ones, and the near-duplicate pairs the
/// stricter cross-prefix rule left apart (and whether they ended in different folds).
public struct GroupsReport: Sendable {
    public let images: Int
    public let groupCount: Int
    /// (size bucket label, number of groups).
    public let sizeHistogram: [(String, Int)]
    /// The largest groups: name and size, largest first (at most 8).
    public let largest: [(String, Int)]
    /// Cross-prefix pairs with the audit's similarity (≥ 0.90) but below the cross-prefix threshold.
    public let weakCrossPrefixPairs: Int
    /// Of those, the pairs whose images fell into different folds.
    public let weakPairsAcrossFolds: Int
    public let foldSizes: [Int]

    init(items: [GroupedSplit.Item], groups: [[Int]], edges: [(Int, Int, Float)], rows: [GroupedFolds.Row], folds: Int) {
        images = items.count
        groupCount = groups.count
        let buckets: [(String, ClosedRange<Int>)] = [("1", 1...1), ("2", 2...2), ("3", 3...3), ("4", 4...4),
                                                      ("5–6", 5...6), ("7–12", 7...12), ("13+", 13...Int.max)]
        sizeHistogram = buckets.map { label, range in (label, groups.filter { range.contains($0.count) }.count) }
        largest = zip(GroupedSplit.groupNames(groups, items: items), groups).map { ($0, $1.count) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(8).map { $0 }
        let foldOfPath = Dictionary(rows.map { ($0.path, $0.fold) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<[Int]>(), weak = 0, across = 0
        for (a, b, s) in edges where s < GroupedSplit.crossPrefixThreshold {
            let pa = GroupedSplit.sourcePrefix(ofPath: items[a].relativePath), pb = GroupedSplit.sourcePrefix(ofPath: items[b].relativePath)
            guard pa != pb, seen.insert([min(a, b), max(a, b)]).inserted else { continue }
            weak += 1
            if let fa = foldOfPath[items[a].relativePath], let fb = foldOfPath[items[b].relativePath], fa != fb { across += 1 }
        }
        weakCrossPrefixPairs = weak
        weakPairsAcrossFolds = across
        foldSizes = (0..<folds).map { f in rows.filter { $0.fold == f }.count }
    }

    public var text: String {
        var out = "Source groups: \(groupCount) over \(images) images (across prefixes: one pair at "
            + String(format: "%.2f", GroupedSplit.crossPrefixThreshold) + ", or \(GroupedSplit.crossPrefixPairs) pairs at "
            + String(format: "%.2f", GroupedSplit.crossPrefixPairThreshold) + ")\n"
        out += "  group sizes: " + sizeHistogram.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "\n"
        out += "  largest: " + largest.map { "\($0.0) (\($0.1))" }.joined(separator: ", ") + "\n"
        out += "  cross-prefix image pairs at 0.90–" + String(format: "%.2f", GroupedSplit.crossPrefixThreshold)
            + ": \(weakCrossPrefixPairs), of which in different folds: \(weakPairsAcrossFolds)\n"
        out += "  fold sizes: " + foldSizes.map(String.init).joined(separator: ", ") + "\n"
        return TerminalSafeText.clean(out, keepingNewlines: true)
    }
}
