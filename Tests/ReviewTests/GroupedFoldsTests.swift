@testable import Audit
@testable import Metrics
import XCTest

final class GroupedFoldsTests: XCTestCase {
    func makeItems() -> [GroupedSplit.Item] {
        var rng = SplitMix64(seed: 11)
        var items: [GroupedSplit.Item] = []
        for s in 0..<200 {
            let cls = [0, 0, 1, 2, 2, 2, 3, 4][rng.index(below: 8)]
            for k in 0..<(1 + rng.index(below: 9)) {
                items.append(.init(relativePath: "train/images/\(s)_jpg.rf.\(k).jpg", classIndex: cls))
            }
        }
        items.append(.init(relativePath: "train/images/empty_jpg.rf.0.jpg", classIndex: nil))
        return items
    }

    func testGroupsNeverCrossFoldsAndClassesSpread() {
        let items = makeItems()
        let groups = GroupedSplit.groups(items: items, edges: [])
        let rows = GroupedFolds.assign(items: items, groups: groups, classCount: 5, folds: 5)
        XCTAssertEqual(rows.count, items.count - 1, "the unlabelled item gets no fold")
        XCTAssertFalse(rows.contains { $0.path.contains("empty") })
        var foldOfGroup: [String: Set<Int>] = [:]
        for r in rows { foldOfGroup[r.group, default: []].insert(r.fold) }
        XCTAssertTrue(foldOfGroup.values.allSatisfy { $0.count == 1 }, "a group crosses folds")
        XCTAssertEqual(foldOfGroup.count, 200)
        for c in 0..<5 {
            let total = rows.filter { $0.classIndex == c }.count
            for f in 0..<5 {
                let share = Double(rows.filter { $0.classIndex == c && $0.fold == f }.count) / Double(total)
                XCTAssertEqual(share, 0.2, accuracy: 0.1, "class \(c) fold \(f)")
            }
        }
        XCTAssertEqual(GroupedFolds.assign(items: items, groups: GroupedSplit.groups(items: items, edges: []),
                                           classCount: 5, folds: 5), rows, "deterministic")
        XCTAssertTrue(GroupedFolds.render(rows, classes: ["a", "b", "c", "d", "e"]).hasPrefix("path,group,class,fold\n"))
    }

    /// Same-prefix images join only through an edge (or as strays); different prefixes by one strong edge or
    /// two weaker pairs; one weak edge alone never joins.
    func testCrossPrefixRule() {
        let names = ["1_jpg.rf.a", "1_jpg.rf.b", "1_jpg.rf.c", "2_jpg.rf.a", "2_jpg.rf.b", "3_jpg.rf.a", "3_jpg.rf.b", "4_jpg.rf.a"]
        let items = names.map { GroupedSplit.Item(relativePath: "train/images/\($0).jpg", classIndex: 0) }
        let edges: [(Int, Int, Float)] = [
            (0, 1, 0.95),            // 1a–1b copies; 1c has no edge: a stray, stays with its prefix
            (3, 4, 0.93),            // 2a–2b
            (5, 6, 0.99),            // 3a–3b
            (0, 3, 0.93), (1, 4, 0.92), // two weaker pairs between prefix 1 and 2: same source
            (5, 7, 0.91),            // one weak pair between 3 and 4: a look-alike
        ]
        let groups = GroupedSplit.groups(items: items, edges: edges).map(Set.init)
        XCTAssertTrue(groups.contains([0, 1, 2, 3, 4]), "\(groups)")
        XCTAssertTrue(groups.contains([5, 6]), "\(groups)")
        XCTAssertTrue(groups.contains([7]), "\(groups)")
        XCTAssertTrue(GroupedSplit.groups(items: items, edges: [(5, 7, 0.975)]).map(Set.init).contains([5, 6, 7]),
                      "one strong cross-prefix edge joins")
        XCTAssertEqual(GroupedSplit.groupNames([[0], [1], [5]], items: items), ["1_jpg", "1_jpg-2", "3_jpg"])
    }

    func testGroupBootstrapIsWiderForCopiesAndEqualForSingletons() throws {
        // 20 groups of 10 identical copies: the group bootstrap sees 20 cases, not 200.
        var truth: [Int] = [], predicted: [Int] = [], groups: [Int] = []
        for g in 0..<20 { for _ in 0..<10 { truth.append(g % 2); predicted.append(g % 3 == 0 ? 1 - g % 2 : g % 2); groups.append(g) } }
        let cases = try XCTUnwrap(Bootstrap.intervals(truth: truth, predicted: predicted, classCount: 2))
        let grouped = try XCTUnwrap(Bootstrap.intervals(truth: truth, predicted: predicted, classCount: 2, groups: groups))
        XCTAssertGreaterThan(grouped.accuracy.high - grouped.accuracy.low, 1.5 * (cases.accuracy.high - cases.accuracy.low))
        // One case per group is the plain bootstrap, draw for draw.
        let singletons = Array(0..<truth.count)
        let same = try XCTUnwrap(Bootstrap.intervals(truth: truth, predicted: predicted, classCount: 2, groups: singletons))
        XCTAssertEqual(same.accuracy, cases.accuracy)
        XCTAssertEqual(same.macroF1, cases.macroF1)
    }
}
