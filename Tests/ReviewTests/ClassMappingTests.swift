import XCTest
@testable import Review

final class ClassMappingTests: XCTestCase {
    func testReorderedClassesMapByName() throws {
        let m = try ClassMapping(modelClasses: ["b", "c", "a"], datasetClasses: ["a", "b", "c"])
        XCTAssertEqual(m.modelIndex, [2, 0, 1])
        XCTAssertFalse(m.isIdentity)
        XCTAssertEqual(m.toDataset([0.2, 0.3, 0.5]), [0.5, 0.2, 0.3])
        XCTAssertTrue(try ClassMapping(modelClasses: ["a", "b"], datasetClasses: ["A ", "b"]).isIdentity,
                      "names match ignoring case and surrounding spaces")
    }

    func testDifferentClassSetsAreRefusedNamingTheClasses() {
        XCTAssertThrowsError(try ClassMapping(modelClasses: ["a", "b"], datasetClasses: ["a", "c"])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("\"c\"") && text.contains("\"b\""), text)
        }
        XCTAssertThrowsError(try ClassMapping(modelClasses: ["a", "a"], datasetClasses: ["a"]))
        XCTAssertThrowsError(try ClassMapping(modelClasses: ["a\u{1b}]0;x\u{07}"], datasetClasses: ["b"])) { e in
            XCTAssertFalse("\(e)".contains("\u{1b}"), "class names from a file are sanitised")
        }
    }
}
