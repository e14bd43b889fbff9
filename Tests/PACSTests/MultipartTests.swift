import Foundation
import XCTest
@testable import PACS

final class MultipartTests: XCTestCase {
    func testContentTypeParametersQuotedOrNotInAnyOrder() {
        let quoted = MultipartRelated.parseContentType("multipart/related; type=\"application/dicom\"; boundary=\"a;b c\"")
        XCTAssertEqual(quoted.type, "multipart/related")
        XCTAssertEqual(quoted.parameters["type"], "application/dicom")
        XCTAssertEqual(quoted.parameters["boundary"], "a;b c", "a ; inside quotes belongs to the value")
        let bare = MultipartRelated.parseContentType("Multipart/Related;BOUNDARY=xyz ;type=application/dicom")
        XCTAssertEqual(bare.type, "multipart/related")
        XCTAssertEqual(bare.parameters["boundary"], "xyz")
        XCTAssertEqual(bare.parameters["type"], "application/dicom")
        XCTAssertEqual(MultipartRelated.parseContentType("multipart/related; boundary=\"q\\\"x\"").parameters["boundary"], "q\"x")
    }

    func testPartsAreFoundWithPreambleHeadersAndBinaryBodies() throws {
        let binary = Data([0, 13, 10, 45, 45, 255, 13, 10])  // CR LF - - inside a body, without the boundary
        var body = Data("preamble to ignore\r\n--BND\r\nContent-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n".utf8)
        body.append(binary)
        body.append(Data("\r\n--BND\r\nContent-Type: application/dicom\r\nContent-Length: 3\r\n\r\nabc\r\n--BND--\r\nepilogue".utf8))
        let parts = try MultipartRelated.parse(body, contentType: "multipart/related; type=\"application/dicom\"; boundary=BND")
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0].body, binary)
        XCTAssertEqual(parts[0].headers["content-type"], "application/dicom; transfer-syntax=1.2.840.10008.1.2.1")
        XCTAssertEqual(parts[1].body, Data("abc".utf8))
        XCTAssertEqual(parts[1].headers["content-length"], "3")
    }

    func testBrokenBodiesAreOneLineErrors() {
        let type = "multipart/related; boundary=B"
        for (body, expected) in [("--B\r\nContent-Type: x\r\n\r\nunterminated", "ends inside a part"),
                                 ("no boundary at all", "boundary not found")] {
            XCTAssertThrowsError(try MultipartRelated.parse(Data(body.utf8), contentType: type)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        XCTAssertThrowsError(try MultipartRelated.parse(Data(), contentType: "application/dicom+json"))
        XCTAssertThrowsError(try MultipartRelated.parse(Data("--\r\n".utf8), contentType: "multipart/related"))
    }

    func testABuiltBodyParsesBackAndItsBoundaryIsInNoFile() throws {
        let files = [Data("first file".utf8), Data([0, 1, 2, 3, 13, 10])]
        let (body, type) = MultipartRelated.build(files)
        let boundary = try XCTUnwrap(MultipartRelated.parseContentType(type).parameters["boundary"])
        XCTAssertFalse(files.contains { $0.range(of: Data(boundary.utf8)) != nil })
        XCTAssertEqual(try MultipartRelated.parse(body, contentType: type).map(\.body), files)
        XCTAssertEqual(MultipartRelated.parseContentType(type).parameters["type"], "application/dicom")
    }
}

final class StoreAnswerTests: XCTestCase {
    /// Orthanc 1.10's answer to a STOW-RS whose instance belongs to another study (409), as it sent it.
    func testRefusedInstancesAreReadWithTheServersReason() {
        let answer = Data(#"""
        {"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"00081190":{"vr":"UR","Value":["http://127.0.0.1:58042/dicom-web/studies/1.2"]},
         "00081198":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.88.34"]},
         "00081155":{"vr":"UI","Value":["2.25.77"]},"00081197":{"vr":"US","Value":[272]}}]},"00081199":{"vr":"SQ"}}
        """#.utf8)
        XCTAssertEqual(DICOMwebClient.failures(inStoreAnswer: answer), ["2.25.77": "failure reason 272"])
        XCTAssertEqual(DICOMwebClient.failures(inStoreAnswer: Data(#"{"00081198":{"vr":"SQ"}}"#.utf8)), [:])
        XCTAssertEqual(DICOMwebClient.failures(inStoreAnswer: Data("not json".utf8)), [:])
        XCTAssertEqual(DICOMwebClient.failures(inStoreAnswer: Data(#"{"00081198":{"Value":[1, {"00081197":{"Value":[0]}}]}}"#.utf8)),
                       ["?": "failure reason 0"], "an item without its UID is still counted")
    }
}
