import Basics
import Foundation
@testable import Model
import XCTest

/// The one finder for what ships beside fracview (weights, the sample, themes).
final class ResourceFoldersTests: XCTestCase {
    func testWorkingDirectoryThenTheExecutablesFolderAndEveryFolderAbove() throws {
        let dirs = ResourceFolders.candidates(currentDirectory: "/work/here", executablePath: "/opt/app/.build/release/fracview")
        XCTAssertEqual(dirs, ["/work/here", "/opt/app/.build/release", "/opt/app/.build", "/opt/app", "/opt", "/"])
        XCTAssertEqual(ResourceFolders.candidates(currentDirectory: "/opt/app", executablePath: "/opt/app/fracview"),
                       ["/opt/app", "/opt", "/"], "no folder twice")
    }

    func testFirstFindsTheBundledSampleFromABuildFolderAndNotFromElsewhere() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let fakeExe = root + "/.build/some/deep/folder/fracview"
        XCTAssertEqual(ResourceFolders.first("samples/hbfmid-test", requiring: "data.yaml", currentDirectory: "/",
                                             executablePath: fakeExe), root + "/samples/hbfmid-test")
        XCTAssertNil(ResourceFolders.first("samples/hbfmid-test", requiring: "data.yaml", currentDirectory: "/",
                                           executablePath: "/usr/bin/fracview"))
        XCTAssertNil(ResourceFolders.first("samples/hbfmid-test", requiring: "no-such-file", currentDirectory: nil,
                                           executablePath: fakeExe))
    }
}
