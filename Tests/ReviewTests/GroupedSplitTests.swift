@testable import Audit
import Foundation
@testable import Metrics
import XCTest

final class GroupedSplitTests: XCTestCase {
    /// 300 sources, each augmented 1–6 times (same prefix); classes skewed, class 6 rare (3 sources), class 3 once.
    func makeItems() -> [GroupedSplit.Item] {
        var rng = SplitMix64(seed: 5)
        var items: [GroupedSplit.Item] = []
        for s in 0..<300 {
            let cls: Int
            switch s { case 0, 1, 2: cls = 6; case 3: cls = 3; default: cls = [0, 1, 2, 4, 4, 5, 7, 8, 8, 8, 9][rng.index(below: 11)] }
            for k in 0..<(1 + rng.index(below: 6)) {
                items.append(.init(relativePath: "train/images/\(s)_jpg.rf.\(k)\(s % 7).jpg", classIndex: cls))
            }
        }
        items.append(.init(relativePath: "train/images/unlabelled_jpg.rf.0.jpg", classIndex: nil))
        return items
    }

    func testGroupsStayTogetherAndProportionsHold() {
        let items = makeItems()
        // A near-duplicate edge across prefixes merges two sources.
        let edges: [(Int, Int, Float)] = [(0, items.firstIndex { $0.relativePath.hasPrefix("train/images/10_jpg") }!, 0.99)]
        let groups = GroupedSplit.groups(items: items, edges: edges)
        let splits = GroupedSplit.assign(items: items, groups: groups, classCount: 10, fractions: [0.8, 0.1, 0.1])
        for group in groups { XCTAssertEqual(Set(group.map { splits[$0] }).count, 1) }
        XCTAssertEqual(splits[0], splits[edges[0].1], "the near-duplicate edge holds")
        var bySplit: [String: Int] = [:]
        for s in splits { bySplit[s, default: 0] += 1 }
        let n = Double(items.count)
        XCTAssertEqual(Double(bySplit["train"]!) / n, 0.8, accuracy: 0.04)
        XCTAssertEqual(Double(bySplit["valid"]!) / n, 0.1, accuracy: 0.03)
        XCTAssertEqual(Double(bySplit["test"]!) / n, 0.1, accuracy: 0.03)
        // Every class with ≥ 2 sources is in test and in train; class 3 (one source) stays in train.
        for c in [0, 1, 2, 4, 5, 6, 7, 8, 9] {
            XCTAssertTrue(items.indices.contains { items[$0].classIndex == c && splits[$0] == "test" }, "class \(c) in test")
            XCTAssertTrue(items.indices.contains { items[$0].classIndex == c && splits[$0] == "train" }, "class \(c) in train")
        }
        XCTAssertTrue(items.indices.filter { items[$0].classIndex == 3 }.allSatisfy { splits[$0] == "train" })
        // Deterministic.
        XCTAssertEqual(GroupedSplit.assign(items: items, groups: GroupedSplit.groups(items: items, edges: edges),
                                           classCount: 10, fractions: [0.8, 0.1, 0.1]), splits)
    }

    func testSourcePrefix() {
        XCTAssertEqual(GroupedSplit.sourcePrefix(ofPath: "test/images/101_jpg.rf.92e3.jpg"), "101_jpg")
        XCTAssertEqual(GroupedSplit.sourcePrefix(ofPath: "a/7_mri_0_2623_jpeg.rf.c9.jpg"), "7_mri_0_2623_jpeg")
        XCTAssertEqual(GroupedSplit.sourcePrefix(ofPath: "a/plain.png"), "plain")
    }
}
