@testable import Engine
import XCTest

final class TensorTests: XCTestCase {
    /// A centred tensor keeps the middle of its elements at the middle of its storage (to 16 floats) through every
    /// reshape, inside the storage and 64-byte steps from its start; a plain one stays at the start.
    func testACentredTensorKeepsItsMiddleAtTheMiddleOfItsStorage() {
        let capacity = 56 * 56 * 144
        let centred = Tensor(shape: [0], capacity: capacity, centred: true)
        let plain = Tensor(shape: [0], capacity: capacity)
        let storageStart = plain.data
        XCTAssertEqual(plain.data, storageStart)
        let start = centred.data - capacity / 2  // where the storage starts, from the empty shape's position
        for shape in [[1, 56, 56, 144], [1, 28, 28, 240], [1, 7, 7, 1152], [1, 1, 1, 7], [1, 112, 112, 1], [capacity]] {
            centred.reshape(shape)
            plain.reshape(shape)
            let offset = centred.data - start, count = centred.count
            XCTAssertGreaterThanOrEqual(offset, 0, "\(shape)")
            XCTAssertLessThanOrEqual(offset + count, capacity, "\(shape)")
            XCTAssertEqual(offset % 16, 0, "\(shape)")
            XCTAssertLessThanOrEqual(abs(2 * offset + count - capacity), 32,
                                     "\(shape): middle at \(offset + count / 2)")
            XCTAssertEqual(plain.data, storageStart, "\(shape)")
        }
        centred.reshape([capacity])
        XCTAssertEqual(centred.data, start, "a full tensor fills the storage")
        // Every element writable and readable where it now lies (the sanitiser or a crash would say otherwise).
        centred.reshape([1, 7, 7, 1152])
        for i in 0..<centred.count { centred[i] = Float(i) }
        XCTAssertEqual(centred.values.last, Float(centred.count - 1))
    }

    /// Tensors and scratch start on a 64-byte line whatever their size, so that a 16-float vector at a multiple of
    /// 16 floats is one cache line, not two halves of two.
    func testTensorsAndScratchStartOnACacheLine() {
        for count in [1, 3, 100, 4_096, 40_000, 200_000, 1_000_000] {
            for centred in [false, true] {
                let t = Tensor(shape: [count], capacity: count + 37, centred: centred)
                XCTAssertEqual(Int(bitPattern: t.data) % 64, 0, "\(count) centred \(centred)")
                t.reshape([count / 2])
                XCTAssertEqual(Int(bitPattern: t.data) % 64, 0, "\(count) centred \(centred), reshaped")
            }
            XCTAssertEqual(Int(bitPattern: Workspace(capacity: count).scratch(count)) % 64, 0, "scratch \(count)")
            let grown = Workspace(capacity: 1)
            XCTAssertEqual(Int(bitPattern: grown.scratch(count)) % 64, 0, "scratch grown to \(count)")
        }
    }

    /// The packed weights the kernels stream (GEMM panels in F32 and half precision, depthwise taps) start on a
    /// 64-byte line too: B4's F32 panels ran 0.94–0.96 of the time aligned.
    func testPackedWeightsStartOnACacheLine() {
        var rng = SystemRandomNumberGenerator()
        func weights(_ n: Int, halves: Bool) -> [Float] {
            (0..<n).map { _ in
                halves ? Float(Int.random(in: -8...8, using: &rng)) / 8 : Float.random(in: -1...1, using: &rng)
            }
        }
        func line<T>(_ buffer: LineAlignedBuffer<T>) -> Int {
            buffer.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) } % 64
        }
        for (cin, cout) in [(3, 5), (24, 144), (40, 33)] {
            for halves in [false, true] {
                let pointwise = Conv2d(inChannels: cin, outChannels: cout, kernelSize: 1,
                                       weight: weights(cin * cout, halves: halves))
                pointwise.prepareChannelsLast(halfPanels: true)
                XCTAssertEqual(pointwise.channelsLastHalfWeight.isEmpty, !halves)
                let offset = halves ? line(pointwise.channelsLastHalfWeight) : line(pointwise.channelsLastWeight)
                XCTAssertEqual(offset, 0, "\(cin)→\(cout) panels, halves \(halves)")
            }
            let depthwise = Conv2d(inChannels: cout, outChannels: cout, kernelSize: 3, padding: 1, groups: cout,
                                   weight: weights(cout * 9, halves: false))
            depthwise.prepareChannelsLast()
            XCTAssertEqual(depthwise.channelsLastWeight.count, 9 * cout)
            XCTAssertEqual(line(depthwise.channelsLastWeight), 0)
        }
    }
}
