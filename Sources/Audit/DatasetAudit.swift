import Datasets
import Foundation

/// `fracview audit`: label findings per split, undecodable images, and leakage between splits.
public enum DatasetAudit {
    /// Decodes every image of the dataset and audits it.
    public static func run(dataset: YOLODataset, progress: ProgressHandler? = nil) -> (AuditReport, ImageSurvey) {
        let survey = ImageSurvey(cases: dataset.allCases, progress: progress)
        return (report(dataset: dataset, survey: survey, progress: progress), survey)
    }

    /// The splits a split's images are compared with: valid against train, test against train and valid.
    static func referenceSplits(for split: String, in splits: [String]) -> [String] {
        guard split != "train" else { return [] }
        let order = splits.filter { $0 != split }
        guard let train = order.first(where: { $0 == "train" }) else { return [] }
        if split == "test" { return [train] + order.filter { $0 == "valid" || $0 == "val" } }
        return [train]
    }

    public static func report(dataset: YOLODataset, survey: ImageSurvey, progress: ProgressHandler? = nil) -> AuditReport {
        var splits: [String: SplitAudit] = [:]
        for split in dataset.splits {
            let idx = survey.cases.indices.filter { survey.cases[$0].split == split }
            let cases = idx.map { survey.cases[$0] }
            func reason(_ c: DatasetCase) -> String? { if case .unlabelled(let r) = c.truth { return r } else { return nil } }
            var counts: [String: Int] = [:]
            for name in dataset.classes { counts[name] = 0 }
            for c in cases { if let k = c.truth.classIndex, k < dataset.classes.count { counts[dataset.classes[k], default: 0] += 1 } }
            var seen: [String: String] = [:], within: [String] = []
            for i in idx { if let h = survey.hashes[i] { if seen[h] != nil { within.append(survey.cases[i].relativePath) } else { seen[h] = survey.cases[i].relativePath } } }
            let undecodable = idx.compactMap { i in survey.errors[i].map { UndecodableImage(path: survey.cases[i].relativePath, error: $0) } }
            var problems = dataset.splitProblems[split] ?? []
            problems += (dataset.orphanLabels[split] ?? []).map { "\($0): label file without an image" }
            problems += undecodable.map { "\($0.path): cannot decode (\($0.error))" }
            splits[split] = SplitAudit(
                split: split, images: cases.count,
                labelled: cases.filter { $0.truth.classIndex != nil }.count,
                unlabelled: cases.filter { $0.truth.classIndex == nil }.map(\.relativePath),
                missingLabels: cases.filter { reason($0) == "no label file" }.map(\.relativePath),
                emptyLabels: cases.filter { reason($0) == "empty label file" }.map(\.relativePath),
                badLabels: cases.filter { reason($0)?.hasPrefix("bad label file") ?? false }.map(\.relativePath),
                missingImages: dataset.orphanLabels[split] ?? [],
                multiClassLabels: cases.filter { $0.classesInLabelFile.count > 1 }.map(\.relativePath),
                undecodable: undecodable, classCounts: counts,
                leaked: leaks(split: split, dataset: dataset, survey: survey, progress: progress),
                leakReference: referenceSplits(for: split, in: dataset.splits),
                duplicatesWithinSplit: within, problems: problems)
        }
        return AuditReport(dataset: dataset.root, classes: dataset.classes, splitOrder: dataset.splits, splits: splits,
                           problems: dataset.problems.filter { $0.hasPrefix("data.yaml") || !$0.contains("/") },
                           nearDuplicateThreshold: Double(NearDuplicateIndex.threshold),
                           fatal: survey.cases.isEmpty || survey.thumbnails.allSatisfy { $0 == nil })
    }

    /// Each image of `split` that is byte-identical to, or a near-duplicate of, an image of a reference split.
    /// Exact copies win; otherwise the first reference split (train) with a twin above threshold.
    static func leaks(split: String, dataset: YOLODataset, survey: ImageSurvey, progress: ProgressHandler?) -> [LeakedImage] {
        let reference = referenceSplits(for: split, in: dataset.splits)
        guard !reference.isEmpty else { return [] }
        let queries = survey.cases.indices.filter { survey.cases[$0].split == split }
        var byHash: [String: Int] = [:]
        for ref in reference.reversed() {
            for i in survey.cases.indices where survey.cases[i].split == ref { if let h = survey.hashes[i] { byHash[h] = i } }
        }
        var result = [LeakedImage?](repeating: nil, count: queries.count)
        for (k, q) in queries.enumerated() {
            if let h = survey.hashes[q], let twin = byHash[h] {
                result[k] = LeakedImage(image: survey.cases[q].relativePath, twin: survey.cases[twin].relativePath,
                                        twinSplit: survey.cases[twin].split, similarity: 1, exact: true)
            }
        }
        for ref in reference {
            let pool = survey.cases.indices.filter { survey.cases[$0].split == ref }
            let open = queries.indices.filter { result[$0] == nil }
            let twins = survey.bestTwins(queries: open.map { queries[$0] }, pool: pool, stage: "\(split)→\(ref)", progress: progress)
            for (k, twin) in zip(open, twins) {
                guard let twin, twin.similarity >= NearDuplicateIndex.threshold else { continue }
                result[k] = LeakedImage(image: survey.cases[queries[k]].relativePath,
                                        twin: survey.cases[twin.index].relativePath, twinSplit: ref,
                                        similarity: (Double(twin.similarity) * 10000).rounded() / 10000, exact: false)
            }
        }
        return result.compactMap { $0 }
    }

    /// Source groups over every image of the survey (see `GroupedSplit.groups`): same prefix, byte-identical
    /// copies, and near-duplicate edges (cross-prefix ones only above `GroupedSplit.crossPrefixThreshold`).
    public static func sourceGroups(survey: ImageSurvey, progress: ProgressHandler? = nil) -> SourceGroups {
        let items = survey.cases.map { GroupedSplit.Item(relativePath: $0.relativePath, classIndex: $0.truth.classIndex) }
        var edges = survey.nearDuplicateEdges(pool: Array(survey.cases.indices), progress: progress)
        var exact: [String: Int] = [:]
        for (i, h) in survey.hashes.enumerated() { if let h { if let j = exact[h] { edges.append((i, j, 1)) } else { exact[h] = i } } }
        return (items, GroupedSplit.groups(items: items, edges: edges), edges)
    }

    public typealias SourceGroups = (items: [GroupedSplit.Item], groups: [[Int]], edges: [(Int, Int, Float)])

    /// A leak-free grouped manifest over every image (see `GroupedSplit`), with the original split proportions.
    public static func groupedSplit(dataset: YOLODataset, grouping: SourceGroups) -> [(path: String, split: String)] {
        let (items, groups, _) = grouping
        let assigned = GroupedSplit.assign(items: items, groups: groups, classCount: dataset.classes.count,
                                           fractions: originalFractions(dataset))
        return zip(items, assigned).map { ($0.relativePath, $1) }
    }

    /// K grouped, class-stratified folds over every labelled image (see `GroupedFolds`), and the groups report.
    public static func groupedFolds(dataset: YOLODataset, grouping: SourceGroups, folds: Int)
        -> (rows: [GroupedFolds.Row], report: GroupsReport) {
        let (items, groups, edges) = grouping
        let rows = GroupedFolds.assign(items: items, groups: groups, classCount: dataset.classes.count, folds: folds)
        return (rows, GroupsReport(items: items, groups: groups, edges: edges, rows: rows, folds: folds))
    }

    /// train/valid/test shares of the dataset as given; 80/10/10 when it does not have all three.
    static func originalFractions(_ dataset: YOLODataset) -> [Double] {
        let sizes = ["train", "valid", "test"].map { (try? dataset.cases(split: $0).count) ?? 0 }
        let total = sizes.reduce(0, +)
        guard sizes.allSatisfy({ $0 > 0 }), total > 0 else { return [0.8, 0.1, 0.1] }
        return sizes.map { Double($0) / Double(total) }
    }
}
