import Foundation
@testable import Imaging
import XCTest

/// The one file writer (CSV, PNG, manifests, evaluate's tables): replace whole or not at all, no temporary left.
final class AtomicFileTests: XCTestCase {
    func testReplacesWholeAndLeavesNoTemporaryFiles() throws {
        let dir = NSTemporaryDirectory() + "fracview-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.csv"
        try AtomicFile.write(Data("old".utf8), to: path)
        try AtomicFile.write(Data("new content".utf8), to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new content")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.csv"])
        // A failure (the target is a folder; the folder is missing) says why in one line and changes nothing.
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: dir + "/sub")) {
            XCTAssertEqual("\($0)", "it is a directory")
        }
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: dir + "/missing/out.csv")) {
            XCTAssertEqual("\($0)", "the folder \(dir)/missing does not exist")
        }
        try AtomicFile.write(Data("made".utf8), to: dir + "/new/deeper/out.csv", creatingFolder: true)
        XCTAssertEqual(try String(contentsOfFile: dir + "/new/deeper/out.csv", encoding: .utf8), "made")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new content")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["out.csv", "sub", "new"])
    }
}
