import Basics
import Datasets
import Imaging
import Model
import Store
import XCTest

/// Every error type follows the one pattern (`OneLineError`): its description is one line, whatever a library
/// or a file name put into it.
final class OneLineErrorTests: XCTestCase {
    func testEveryErrorTypeIsOneLine() {
        let errors: [any OneLineError] = [
            WeightsError(path: "w.safetensors", reason: "tensor x:\nshape [3]"),
            ImageError(path: "scan\u{2028}.jpg", reason: "libjpeg:\r\nPremature end"),
            DatasetError("data.yaml:\nnames is not a list"),
            ReviewStoreError("server said:\nERROR: relation\n"),
            AtomicFile.Failure(reason: "no space\nleft"),
        ]
        for e in errors {
            XCTAssertFalse(e.description.contains { $0.isNewline }, e.description)
            XCTAssertFalse(e.description.isEmpty)
        }
        XCTAssertEqual(errors[0].description, "w.safetensors: tensor x: shape [3]")
        XCTAssertEqual(errors[2].description, "data.yaml: names is not a list")
        XCTAssertEqual(errors[1].description, "scan?.jpg: libjpeg: Premature end", "the image error also sanitises the name")
        XCTAssertEqual((errors[3] as? ReviewStoreError)?.errorDescription, "server said: ERROR: relation")
    }
}
