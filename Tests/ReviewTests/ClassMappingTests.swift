import Basics
@testable import Datasets
@testable import Model
import XCTest

final class ClassMappingTests: XCTestCase {
    func testReorderedClassesMapByName() throws {
        let m = try ClassMapping(modelClasses: ["b", "c", "a"], datasetClasses: ["a", "b", "c"])
        XCTAssertEqual(m.modelIndex, [2, 0, 1])
        XCTAssertFalse(m.isIdentity)
        let modelOrder = Prediction(probabilities: [0.2, 0.3, 0.5], attention: FeatureMap(width: 1, height: 1, values: [1]),
                                    gradcam: nil)
        let datasetOrder = modelOrder.reordered(m.modelIndex)
        XCTAssertEqual(datasetOrder.probabilities, [0.5, 0.2, 0.3])
        XCTAssertEqual(datasetOrder.logits, [0.5, 0.2, 0.3].map { log(Float($0)) })
        XCTAssertEqual(datasetOrder.predicted, 0, "the model's class 2 is the dataset's class 0")
        XCTAssertEqual(modelOrder.reordered([0, 1]), modelOrder, "an order of the wrong length changes nothing")
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
