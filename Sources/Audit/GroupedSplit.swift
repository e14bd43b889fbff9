import Foundation
import Model

/// A leak-free split: images are grouped by source (same file-name prefix before `.rf.`, or linked by a
/// near-duplicate edge, transitively) and whole groups are assigned to splits, stratified by class.
/// Deterministic: no randomness, ties broken by a stable hash of the group's first path.
public struct GroupedSplit: Sendable {
    public struct Item: Sendable {
        public let relativePath: String
        public let classIndex: Int?
        public init(relativePath: String, classIndex: Int?) { self.relativePath = relativePath; self.classIndex = classIndex }
    }

    public static let splitNames = ["train", "valid", "test"]

    /// The source key of an image: its file name up to `.rf.` (Roboflow's augmentation suffix), else its stem.
    public static func sourcePrefix(ofPath path: String) -> String {
        let name = (path as NSString).lastPathComponent
        if let range = name.range(of: ".rf.") { return String(name[..<range.lowerBound]) }
        return (name as NSString).deletingPathExtension
    }

    /// A single near-duplicate edge between different source prefixes joins their groups at this score.
    public static let crossPrefixThreshold: Float = 0.97
    /// Below it, two groups of different prefixes join when at least `crossPrefixPairs` distinct image pairs
    /// between them score `crossPrefixPairThreshold`: the copies of one source X-ray match each other's copies
    /// again and again, while a different X-ray of the same anatomy matches by chance once. (Seen on HBFMID: pairs
    /// at 0.92–0.96 are the same X-ray flipped as often as not; one chain of single 0.90 edges grew to 123 images.
    /// docs/review.md, "Groups".)
    public static let crossPrefixPairThreshold: Float = 0.92
    public static let crossPrefixPairs = 2

    /// Groups of item indices, each one source X-ray and its copies:
    /// 1. near-duplicate `edges` (i, j, similarity; the caller passes edges at or above the audit's threshold, and
    ///    byte-identical copies as similarity 1) join images of the same source prefix;
    /// 2. an image that no edge joins to anything stays with its prefix (with the prefix's first image), so a
    ///    heavily augmented copy is never split from its source;
    /// 3. groups of different prefixes join by the cross-prefix rule above.
    /// The prefix alone is not a source: HBFMID reuses file names across its class folders (its "13_jpg" holds
    /// three X-rays of three classes), so same-prefix images join only through an edge, or as a last resort.
    public static func groups(items: [Item], edges: [(Int, Int, Float)]) -> [[Int]] {
        var uf = UnionFind(count: items.count)
        let prefixes = items.map { sourcePrefix(ofPath: $0.relativePath) }
        var linked = [Bool](repeating: false, count: items.count)
        for (a, b, _) in edges where a != b && prefixes[a] == prefixes[b] {
            uf.union(a, b)
            linked[a] = true; linked[b] = true
        }
        var firstTwo: [String: [Int]] = [:]
        for (i, key) in prefixes.enumerated() where firstTwo[key, default: []].count < 2 { firstTwo[key, default: []].append(i) }
        for (i, key) in prefixes.enumerated() where !linked[i] {
            if let partner = firstTwo[key]?.first(where: { $0 != i }) { uf.union(i, partner) }
        }
        // Cross-prefix: count distinct image pairs per pair of same-prefix groups.
        let base = items.indices.map { uf.find($0) }
        var strong = Set<[Int]>(), pairs: [[Int]: Set<[Int]>] = [:]
        for (a, b, similarity) in edges where a != b && prefixes[a] != prefixes[b] && base[a] != base[b] {
            let key = [min(base[a], base[b]), max(base[a], base[b])]
            if similarity >= crossPrefixThreshold { strong.insert(key) }
            if similarity >= crossPrefixPairThreshold { pairs[key, default: []].insert([min(a, b), max(a, b)]) }
        }
        for key in strong { uf.union(key[0], key[1]) }
        for (key, set) in pairs where set.count >= crossPrefixPairs { uf.union(key[0], key[1]) }
        return uf.groups()
    }

    /// Each group's name: the smallest source prefix among its members, with "-2", "-3", … for the second and
    /// later groups (in the order given) that share it. Stable and readable.
    public static func groupNames(_ groups: [[Int]], items: [Item]) -> [String] {
        var used: [String: Int] = [:]
        return groups.map { members in
            let base = members.map { sourcePrefix(ofPath: items[$0].relativePath) }.min() ?? ""
            used[base, default: 0] += 1
            return used[base]! == 1 ? base : "\(base)-\(used[base]!)"
        }
    }

    /// Assigns groups to train/valid/test with `fractions` (of images), returning one split name per item.
    /// 1. For test then valid: each class missing there, rarest first, gets its smallest group — only while
    ///    enough other groups of that class remain for train ("where the data allows"; see below).
    /// 2. The other groups, largest first, each go to the split where they most reduce a chi-square distance
    ///    between the splits' (per-class and total) counts and their targets.
    public static func assign(items: [Item], groups: [[Int]], classCount: Int,
                              fractions: [Double] = [0.875, 0.083, 0.042]) -> [String] {
        precondition(fractions.count == 3)
        let total = Double(items.count)
        var classTotals = [Double](repeating: 0, count: classCount)
        for item in items { if let c = item.classIndex, c < classCount { classTotals[c] += 1 } }

        struct Group { let members: [Int]; let counts: [Int]; let mainClass: Int?; let key: UInt64 }
        let info: [Group] = groups.map { members in
            var counts = [Int](repeating: 0, count: classCount)
            for m in members { if let c = items[m].classIndex, c < classCount { counts[c] += 1 } }
            let main = counts.indices.max { (counts[$0], -$0) < (counts[$1], -$1) }.flatMap { counts[$0] > 0 ? $0 : nil }
            return Group(members: members, counts: counts, mainClass: main,
                         key: ContentDigest.fnv1a(items[members[0]].relativePath))
        }
        var assignment = [Int?](repeating: nil, count: info.count)
        var size = [Double](repeating: 0, count: 3)
        var classCount3 = [[Double]](repeating: [Double](repeating: 0, count: classCount), count: 3)
        func place(_ g: Int, _ s: Int) {
            assignment[g] = s
            size[s] += Double(info[g].members.count)
            for c in 0..<classCount { classCount3[s][c] += Double(info[g].counts[c]) }
        }

        // 1. Class coverage of the small splits.
        for s in [2, 1] {
            let rarest = (0..<classCount).sorted { a, b in
                let ga = info.filter { $0.counts[a] > 0 }.count, gb = info.filter { $0.counts[b] > 0 }.count
                return ga != gb ? ga < gb : a < b
            }
            for c in rarest where classCount3[s][c] == 0 {
                let open = info.indices.filter { assignment[$0] == nil && info[$0].counts[c] > 0 }
                // Train must keep sources of the class: one when covering test, two when covering valid
                // (a class with 3 sources gets test 1, train 2, valid none).
                guard open.count >= (s == 2 ? 2 : 3) else { continue }
                // Smallest group whose main class is c if any, so coverage costs few images.
                let pick = open.min { a, b in
                    let ka = (info[a].mainClass == c ? 0 : 1, info[a].members.count, info[a].key)
                    let kb = (info[b].mainClass == c ? 0 : 1, info[b].members.count, info[b].key)
                    return ka < kb
                }!
                place(pick, s)
            }
        }

        // 2. Stratified greedy fill, largest groups first.
        let order = info.indices.filter { assignment[$0] == nil }.sorted { a, b in
            info[a].members.count != info[b].members.count ? info[a].members.count > info[b].members.count
                : info[a].key < info[b].key
        }
        for g in order {
            let group = info[g]
            let n = Double(group.members.count)
            var best = 0, bestDelta = Double.infinity
            for s in 0..<3 {
                // Change of a chi-square-like distance to the targets (per class and overall) if g went to s.
                let t = fractions[s] * total
                var delta = (pow(size[s] + n - t, 2) - pow(size[s] - t, 2)) / max(t, 1)
                for c in 0..<classCount where group.counts[c] > 0 {
                    let tc = fractions[s] * classTotals[c], now = classCount3[s][c]
                    delta += (pow(now + Double(group.counts[c]) - tc, 2) - pow(now - tc, 2)) / max(tc, 1)
                }
                if delta < bestDelta { bestDelta = delta; best = s }
            }
            place(g, best)
        }

        var result = [String](repeating: "train", count: items.count)
        for (g, group) in info.enumerated() { for m in group.members { result[m] = splitNames[assignment[g] ?? 0] } }
        return result
    }
}
