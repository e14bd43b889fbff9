import Engine
import Foundation
import XCTest

/// The allocator policy `main` sets: large blocks on mmap, returned when freed, whatever was freed before; small
/// ones (the engine's per-forward feature maps) on the heap.
final class ProcessMemoryTests: XCTestCase {
    func testLargeBlocksAreMappedAndReturnedEvenAfterALargerOneWasFreed() throws {
        if ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] != nil {
            throw XCTSkip("MALLOC_MMAP_THRESHOLD_ is set: the user's threshold wins")
        }
        ProcessMemory.returnLargeBlocksWhenFreed()
        // glibc left to itself raises its threshold to the size of a freed mapped block: after this 4 MB one, a
        // 1 MB block would come from the heap, and its hole would stay resident once freed.
        let big = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 << 20)
        big.initialize(repeating: 1, count: 4 << 20)
        big.deallocate()

        let before = ProcessMemory.mappedBytes
        let image = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 20)  // a decoded 600×600 RGB image, say
        image.initialize(repeating: 2, count: 1 << 20)
        let holding = ProcessMemory.mappedBytes
        image.deallocate()
        XCTAssertGreaterThanOrEqual(holding - before, 1 << 20, "a 1 MB block is mapped")
        XCTAssertEqual(ProcessMemory.mappedBytes, before, "and unmapped when freed")

        let featureMap = UnsafeMutablePointer<Float>.allocate(capacity: 7 * 7 * 1280)  // 250 KB
        featureMap.initialize(repeating: 0, count: 7 * 7 * 1280)
        XCTAssertEqual(ProcessMemory.mappedBytes, before, "a block under \(ProcessMemory.mmapThreshold >> 10) KB stays on the heap")
        featureMap.deallocate()
    }
}
