import CEngineKernels
import XCTest
@testable import Engine

/// A·Aᵀ on the packed GEMM kernels (EigenCAM's positions × channels) against a naive double-precision reference,
/// over shapes around the 32-wide panels and the micro-kernels' row tiles, on every ISA this CPU has.
final class GramMatrixTests: XCTestCase {
    func testTheGramMatrixMatchesANaiveReference() {
        var rng = KernelTestRandom(seed: 0x6AA)
        forEachISA { isa in
            for (rows, columns) in [(1, 1), (2, 3), (12, 7), (13, 33), (31, 64), (32, 1280), (33, 5), (49, 1280), (100, 160), (144, 17)] {
                let a = (0..<(rows * columns)).map { _ in Float.random(in: -2...2, using: &rng) }
                let gram = a.withUnsafeBufferPointer { GramMatrix.of($0.baseAddress!, rows: rows, columns: columns) }
                XCTAssertEqual(gram.count, rows * rows)
                for i in 0..<rows {
                    for j in 0..<rows {
                        var ref = 0.0, mag = 0.0
                        for k in 0..<columns {
                            ref += Double(a[i * columns + k]) * Double(a[j * columns + k])
                            mag += abs(Double(a[i * columns + k] * a[j * columns + k]))
                        }
                        XCTAssertEqual(Double(gram[i * rows + j]), ref, accuracy: 1e-5 * mag + 1e-6, "\(isa) \(rows)×\(columns) [\(i), \(j)]")
                    }
                }
            }
        }
    }
}
