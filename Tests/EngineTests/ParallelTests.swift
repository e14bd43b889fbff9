@testable import Engine
import Foundation
import XCTest

final class ParallelTests: XCTestCase {
    /// forChunks hands out chunkCount disjoint ranges covering 0..<count, each with its own chunk index (the
    /// index selects per-thread scratch, so two ranges must never share one).
    func testChunksCoverTheRangeOnceWithDistinctIndices() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3, 8] {
            Parallel.threads = threads
            for (count, minPer) in [(0, 1), (1, 1), (7, 1), (100, 1), (100, 30), (100, 200), (1000, 3)] {
                let lock = NSLock()
                var seen = [Int](repeating: 0, count: count), chunks = Set<Int>(), calls = 0
                Parallel.forChunks(count, minPerThread: minPer) { chunk, range in
                    lock.lock(); defer { lock.unlock() }
                    calls += 1
                    chunks.insert(chunk)
                    for i in range { seen[i] += 1 }
                }
                let expected = count == 0 ? 0 : Parallel.chunkCount(count, minPerThread: minPer)
                XCTAssertEqual(calls, expected, "threads \(threads), count \(count), min \(minPer)")
                XCTAssertEqual(chunks, Set(0..<expected))
                XCTAssertTrue(seen.allSatisfy { $0 == 1 }, "every item exactly once")
                XCTAssertLessThanOrEqual(expected, threads)
            }
        }
    }

    /// Chunk i goes to participant i (the caller is 0, the first worker 1), so consecutive ops split alike leave
    /// each core reading what it wrote. The caller takes chunk 0 before the region starts, so that holds in every
    /// region: here chunk 0 waits until chunk 1 has started, which only a worker can then do. First come, first
    /// served (the pool before) put chunk 0 on the worker in 26–74 % of this test's regions, which then fail it.
    func testChunkZeroRunsOnTheCallerAndChunkOneOnAWorker() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let caller = pthread_self()
        let regions = 300
        var zeroOnCaller = 0, oneOnCaller = 0
        for _ in 0..<regions {
            let lock = NSLock()
            var oneStarted = false
            Parallel.forChunks(2) { chunk, _ in
                let mine = pthread_equal(pthread_self(), caller) != 0
                if chunk == 1 {
                    lock.lock(); oneStarted = true; if mine { oneOnCaller += 1 }; lock.unlock()
                    return
                }
                lock.lock(); if mine { zeroOnCaller += 1 }; lock.unlock()
                // A worker that never comes would leave chunk 1 to the caller after this wait: the test then fails.
                let giveUp = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
                while DispatchTime.now().uptimeNanoseconds < giveUp {
                    lock.lock(); let started = oneStarted; lock.unlock()
                    if started { break }
                }
            }
        }
        XCTAssertEqual(zeroOnCaller, regions, "chunk 0 on the calling thread")
        XCTAssertEqual(oneOnCaller, 0, "chunk 1 on the worker")
    }

    /// Depthwise convs give the same bits on one thread and on several (per-thread scratch, channel split), with
    /// planes large enough that the work really is split.
    func testDepthwiseIsIndependentOfThreadCount() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var rng = SystemRandomNumberGenerator()
        let c = 48, size = 40
        // Channels-last, as the backbone runs them (the NCHW wrapper is not on the production path).
        let x = Tensor(shape: [1, size, size, c])
        for i in 0..<x.count { x.data[i] = Float.random(in: -1...1, using: &rng) }
        for (k, stride) in [(3, 1), (5, 1), (3, 2), (5, 2)] {
            let conv = Conv2d(inChannels: c, outChannels: c, kernelSize: k, stride: stride, padding: k / 2, groups: c,
                              weight: (0..<(c * k * k)).map { _ in Float.random(in: -1...1, using: &rng) },
                              bias: (0..<c).map { _ in Float.random(in: -1...1, using: &rng) }, activation: .silu)
            conv.prepareChannelsLast(keepingNCHW: false)
            let (ho, wo) = conv.outputSize(height: size, width: size)
            let run = { () -> Tensor in
                let y = Tensor(shape: [1, ho, wo, c])
                conv.forwardChannelsLast(x, into: y, workspace: Workspace(capacity: conv.channelsLastScratchCount(height: size, width: size)))
                return y
            }
            Parallel.threads = 1
            let one = run()
            Parallel.threads = 4
            // A 40×40 map is too large for the small-map kernel: the row kernel splits the output rows.
            XCTAssertGreaterThan(Parallel.chunkCount(ho, minPerThread: max(1, 16_384 / (wo * c * k * k))), 1, "work is split")
            let four = run()
            XCTAssertEqual(Array(UnsafeBufferPointer(start: one.data, count: one.count)),
                           Array(UnsafeBufferPointer(start: four.data, count: four.count)), "k \(k) stride \(stride)")
        }
    }

    /// A 7×7 map's 1×1 and 5×5 depthwise convs give the same bits split by rows (an MBConv block that keeps rows on
    /// each core, `rowSplitMinimum` 48) as by channels (the default below 96 pixels), on two threads.
    func testSevenBySevenMapsGiveTheSameBitsSplitByRowsOrByChannels() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        var rng = SystemRandomNumberGenerator()
        let size = 7, cin = 192, c = 1152
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } }
        let x = Tensor(shape: [1, size, size, cin], values: random(size * size * cin))
        let expand = Conv2d(inChannels: cin, outChannels: c, kernelSize: 1, weight: random(c * cin), bias: random(c),
                            activation: .relu6)
        let depthwise = Conv2d(inChannels: c, outChannels: c, kernelSize: 5, padding: 2, groups: c,
                               weight: random(c * 25), bias: random(c), activation: .relu6)
        for conv in [expand, depthwise] { conv.prepareChannelsLast(keepingNCHW: false) }
        let run = { (minimum: Int) -> [Float] in
            expand.rowSplitMinimum = minimum; depthwise.rowSplitMinimum = minimum
            let workspace = Workspace(capacity: max(expand.channelsLastScratchCount(height: size, width: size),
                                                    depthwise.channelsLastScratchCount(height: size, width: size)))
            let e = Tensor(shape: [1, size, size, c]), y = Tensor(shape: [1, size, size, c])
            expand.forwardChannelsLast(x, into: e, workspace: workspace)
            depthwise.forwardChannelsLast(e, into: y, workspace: workspace)
            return Array(UnsafeBufferPointer(start: y.data, count: y.count))
        }
        let byChannels = run(Conv2d.rowSplitPixels), byRows = run(48)
        XCTAssertTrue(byChannels.contains { $0 != 0 }, "a non-trivial output")
        XCTAssertEqual(byRows, byChannels)
    }

    /// The worker pool under stress: many short regions in a row (a lost wake-up would hang), regions started from
    /// inside a region (run inline), and two caller threads at once (one gets the pool, the other runs inline).
    /// Each caller runs on its own thread under a deadline, so a hang fails the test instead of stalling CI.
    func testPoolSurvivesBackToBackNestedAndConcurrentRegions() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let hammer: @Sendable (Int, Bool) -> Bool = { rounds, nested in
            for r in 0..<rounds {
                let lock = NSLock()
                var seen = [Int](repeating: 0, count: 64)
                Parallel.forRanges(64, minPerThread: 1) { range in
                    if nested {
                        Parallel.forRanges(range.count) { inner in
                            lock.lock(); for i in inner { seen[range.lowerBound + i] += 1 }; lock.unlock()
                        }
                    } else {
                        lock.lock(); for i in range { seen[i] += 1 }; lock.unlock()
                    }
                }
                if !seen.allSatisfy({ $0 == 1 }) { print("round \(r): \(seen)"); return false }
            }
            return true
        }
        let done = [expectation(description: "plain"), expectation(description: "nested")]
        final class Results: @unchecked Sendable { let lock = NSLock(); var ok = [false, false] }
        let results = Results()
        for (i, nested) in [false, true].enumerated() {
            let finished = done[i]
            Thread.detachNewThread {
                let good = hammer(20_000, nested)
                results.lock.lock(); results.ok[i] = good; results.lock.unlock()
                finished.fulfill()
            }
        }
        wait(for: done, timeout: 120)
        results.lock.lock(); defer { results.lock.unlock() }
        XCTAssertEqual(results.ok, [true, true], "every item of every region exactly once, from both callers")
    }
}
