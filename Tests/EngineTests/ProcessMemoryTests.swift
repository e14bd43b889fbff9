import Engine
import Foundation
import XCTest

/// The allocator policy `main` sets. Whether a given block then comes from mmap depends on the heap's state (a
/// free chunk large enough is reused first), so its effect is checked where it matters: the review process's peak
/// RSS with the shipped model (`ReviewTUITests`), which it lowers by about 20 MB.
final class ProcessMemoryTests: XCTestCase {
    func testTheAllocatorTakesTheThresholdUnlessTheUserSetOne() {
        let userSetting = ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] != nil
        XCTAssertEqual(ProcessMemory.returnLargeBlocksWhenFreed(), !userSetting)
    }
}
