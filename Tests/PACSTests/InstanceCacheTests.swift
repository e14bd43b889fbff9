import Foundation
import XCTest
@testable import PACS

final class InstanceCacheTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pacs-cache-\(UUID().uuidString)").path
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testAStoredInstanceComesBackAndAChangedOneIsNeverUsedSilently() throws {
        let cache = try InstanceCache(folder: dir)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700, "patients' images: private")
        let file = try cache.store(Data("dicom bytes".utf8), sop: "1.2.3")
        XCTAssertEqual(file, dir + "/1.2.3.dcm")
        XCTAssertEqual(try cache.load("1.2.3")?.data, Data("dicom bytes".utf8))
        XCTAssertNil(try cache.load("9.9"))
        // Something changes the file behind fracview's back.
        try Data("dicom bytez".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertNil(try cache.load("1.2.3"), "a changed file is not served")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file), "it is dropped, to be fetched again")
        let notices = cache.takeNotices()
        XCTAssertEqual(notices.count, 1)
        XCTAssertTrue(notices[0].contains("1.2.3") && notices[0].contains("changed"), notices[0])
        XCTAssertTrue(cache.takeNotices().isEmpty, "said once")
        XCTAssertThrowsError(try cache.store(Data(), sop: "../escape"))
        XCTAssertNil(try cache.load("../escape"))
    }

    func testTheLimitEvictsTheLeastRecentlyUsedButNeverAPinnedInstance() throws {
        let cache = try InstanceCache(folder: dir, limitBytes: 2500)
        let kilobyte = Data(repeating: 7, count: 1000)
        _ = try cache.store(kilobyte, sop: "1.1")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -300)], ofItemAtPath: dir + "/1.1.dcm")
        _ = try cache.store(kilobyte, sop: "1.2")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -200)], ofItemAtPath: dir + "/1.2.dcm")
        cache.pin(["1.1"])
        _ = try cache.store(kilobyte, sop: "1.3")
        XCTAssertNotNil(try cache.load("1.1"), "pinned: the review in progress uses it")
        XCTAssertNil(try cache.load("1.2"), "the least recently used unpinned file went")
        XCTAssertNotNil(try cache.load("1.3"))
        XCTAssertEqual(cache.usage.files, 2)
        XCTAssertLessThanOrEqual(cache.usage.bytes, 2500)
    }

    func testListingsAreKeptForOfflineUse() throws {
        let cache = try InstanceCache(folder: dir)
        cache.saveListing(Data("[1]".utf8), study: "1.2")
        XCTAssertEqual(cache.listing(study: "1.2"), Data("[1]".utf8))
        XCTAssertNil(cache.listing(study: "1.3"))
        XCTAssertEqual(InstanceCache.defaultFolder(environment: ["HOME": "/home/a"]), "/home/a/.cache/fracview/dicomweb")
        XCTAssertEqual(InstanceCache.defaultFolder(environment: ["HOME": "/home/a", "XDG_CACHE_HOME": "/c"]), "/c/fracview/dicomweb")
        XCTAssertEqual(InstanceCache.defaultFolder(environment: ["FRACVIEW_PACS_CACHE": "/p"]), "/p")
    }
}
