import Foundation
import XCTest
@testable import PACS

final class ServerAndCredentialsTests: XCTestCase {
    func testTheURLLosesItsPasswordEverywhereItIsShown() throws {
        let server = try DICOMwebServer("http://alice:s3cr%40t@127.0.0.1:8042/dicom-web/")
        XCTAssertEqual(server.display, "http://127.0.0.1:8042/dicom-web")
        XCTAssertEqual(server.root.absoluteString, "http://127.0.0.1:8042/dicom-web")
        let credentials = DICOMwebCredentials.resolve(for: server, environment: ["HOME": "/nonexistent"])
        XCTAssertEqual(credentials, .basic(user: "alice", password: "s3cr@t"), "percent-escapes decoded")
        XCTAssertFalse("\(credentials)".contains("s3cr"))
        XCTAssertEqual(DICOMwebServer.redacted("https://bob:hunter2@pacs/x"), "https://bob:***@pacs/x")
        XCTAssertThrowsError(try DICOMwebServer("ftp://bob:hunter2@pacs/x")) { XCTAssertFalse("\($0)".contains("hunter2")) }
        XCTAssertThrowsError(try DICOMwebServer("http://bob:hunter2@/x")) { XCTAssertFalse("\($0)".contains("hunter2")) }
        XCTAssertTrue(DICOMwebServer.isServerURL("HTTPS://pacs.example/dicomweb"))
        XCTAssertFalse(DICOMwebServer.isServerURL("/data/hbfmid"))
    }

    func testQueryValuesAreEscapedPlusIncluded() throws {
        let server = try DICOMwebServer("https://pacs.example/root")
        let url = server.url("studies", query: [("StudyDate", "20261201-"), ("PatientName", "A+B C")])
        XCTAssertEqual(url.absoluteString, "https://pacs.example/root/studies?StudyDate=20261201-&PatientName=A%2BB%20C")
    }

    func testTokenThenNetrcAndTheirOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netrc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let netrc = dir.appendingPathComponent("netrc").path
        try """
        # comment-free netrc as curl reads it
        machine other.example login x password y
        macdef init
        machine 127.0.0.1 login evil password evil

        machine 127.0.0.1
          login carol password pw-carol
        default login anon password anon-pw
        """.write(toFile: netrc, atomically: true, encoding: .utf8)
        let server = try DICOMwebServer("http://127.0.0.1:8042/dicom-web")
        XCTAssertEqual(DICOMwebCredentials.resolve(for: server, environment: ["NETRC": netrc]),
                       .basic(user: "carol", password: "pw-carol"), "the macro's body is not an entry")
        XCTAssertEqual(DICOMwebCredentials.resolve(for: server, environment: ["NETRC": netrc, "FRACVIEW_DICOMWEB_TOKEN": " tok \n"]),
                       .bearer(token: "tok"), "an explicit token wins over the netrc")
        XCTAssertEqual(DICOMwebCredentials.resolve(for: try DICOMwebServer("http://u:p@127.0.0.1/x"),
                                                   environment: ["NETRC": netrc, "FRACVIEW_DICOMWEB_TOKEN": "tok"]),
                       .basic(user: "u", password: "p"), "what the user typed for this run wins")
        XCTAssertEqual(DICOMwebCredentials.resolve(for: try DICOMwebServer("http://elsewhere/x"), environment: ["NETRC": netrc]),
                       .basic(user: "anon", password: "anon-pw"), "the default entry")
        XCTAssertEqual(DICOMwebCredentials.resolve(for: server, environment: ["NETRC": dir.path + "/missing"]), .none)
        XCTAssertEqual(DICOMwebCredentials.bearer(token: "tok").authorization, "Bearer tok")
        XCTAssertEqual(DICOMwebCredentials.basic(user: "a", password: "b").authorization, "Basic YTpi")
        XCTAssertFalse("\(DICOMwebCredentials.bearer(token: "tok-secret"))".contains("tok-secret"))
    }

    func testUIDsThatCouldEscapeAPathAreRefused() {
        for bad in ["", "../etc", "1.2/3", "1..2", ".1", "1.", String(repeating: "1", count: 65), "1.2.3\u{0}"] {
            XCTAssertFalse(DicomUID.isValid(bad), bad)
        }
        XCTAssertTrue(DicomUID.isValid("1.2.840.10008.5.1.4.1.1.1.1"))
    }

    func testTheTransferSyntaxIsReadFromTheMetaHeader() {
        var file = Data(count: 128) + Data("DICM".utf8)
        func element(_ tag: UInt16, _ vr: String, _ value: String) -> Data {
            var v = Data(value.utf8); if v.count % 2 == 1 { v.append(0) }
            return Data([0x02, 0x00, UInt8(tag & 0xFF), UInt8(tag >> 8)]) + Data(vr.utf8) + Data([UInt8(v.count), 0]) + v
        }
        file += Data([0x02, 0x00, 0x01, 0x00]) + Data("OB".utf8) + Data([0, 0, 2, 0, 0, 0, 0, 1])  // a long-form element first
        file += element(0x0002, "UI", "1.2.840.10008.5.1.4.1.1.1.1")
        file += element(0x0010, "UI", "1.2.840.10008.1.2.4.90")
        XCTAssertEqual(DicomMetaHeader.transferSyntax(of: file), "1.2.840.10008.1.2.4.90")
        XCTAssertNil(DicomMetaHeader.transferSyntax(of: Data("not dicom".utf8)))
        XCTAssertNil(DicomMetaHeader.transferSyntax(of: file.prefix(150)), "a cut header is no answer")
    }

    func testCaseNamesCarryNothingOfThePatientAndKeysRoundTrip() throws {
        let server = try DICOMwebServer("http://user:pw@127.0.0.1:8042/dicom-web")
        let i = InstanceSummary(study: "1.2.3", series: "1.2.3.4", sop: "1.2.3.4.5", sopClass: "1.2.840.10008.5.1.4.1.1.1.1",
                                modality: "DX", seriesNumber: 2, seriesDescription: "PA", instanceNumber: 7, studyDate: "20261201")
        XCTAssertEqual(DICOMwebCaseSource.displayName(i), "2026-12-01 · DX series 2 · #7")
        let key = DICOMwebCaseSource.caseKey(i, server: server)
        XCTAssertEqual(key, "http://127.0.0.1:8042/dicom-web/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5")
        XCTAssertFalse(key.contains("pw"))
        let back = try XCTUnwrap(DICOMwebCaseSource.instance(fromKey: key, server: server))
        XCTAssertEqual([back.study, back.series, back.sop], ["1.2.3", "1.2.3.4", "1.2.3.4.5"])
        XCTAssertNil(DICOMwebCaseSource.instance(fromKey: key, server: try DICOMwebServer("http://127.0.0.1:8043/dicom-web")))
        XCTAssertNil(DICOMwebCaseSource.instance(fromKey: "test/images/a.jpg", server: server))
        var sr = i; sr.sopClass = "1.2.840.10008.5.1.4.1.1.88.11"; sr.modality = "SR"
        var pr = i; pr.sopClass = "1.2.840.10008.5.1.4.1.1.11.1"
        var unknownClass = i; unknownClass.sopClass = nil; unknownClass.modality = "KO"
        XCTAssertTrue(i.isImage)
        XCTAssertFalse(sr.isImage); XCTAssertFalse(pr.isImage); XCTAssertFalse(unknownClass.isImage)
    }
}
