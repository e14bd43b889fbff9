import XCTest
@testable import Engine

/// The split matrix-vector products against a naive double-precision reference, over shapes on both sides of the
/// per-thread threshold (one chunk, several, ragged splits).
final class MatrixVectorTests: XCTestCase {
    func testBothOrientationsMatchANaiveReferenceOverManyShapes() {
        var rng = KernelTestRandom(seed: 0x5EED)
        func next() -> Float { Float.random(in: -1...1, using: &rng) }
        for (m, n) in [(1, 1), (3, 5), (144, 1280), (512, 1280), (1280, 512), (10, 512), (7, 70_000), (70_001, 3)] {
            let a = (0..<(m * n)).map { _ in next() }
            let xm = (0..<n).map { _ in next() }, xt = (0..<m).map { _ in next() }
            var y = [Float](repeating: .nan, count: m), yt = [Float](repeating: .nan, count: n)
            a.withUnsafeBufferPointer { ap in
                xm.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { MatrixVector.multiply(m: m, n: n, a: ap.baseAddress!, x: xp.baseAddress!, y: $0.baseAddress!) }
                }
                xt.withUnsafeBufferPointer { xp in
                    yt.withUnsafeMutableBufferPointer {
                        MatrixVector.multiply(transposed: true, m: m, n: n, a: ap.baseAddress!, x: xp.baseAddress!, y: $0.baseAddress!)
                    }
                }
            }
            for i in 0..<m {
                var ref = 0.0, mag = 0.0
                for j in 0..<n { ref += Double(a[i * n + j]) * Double(xm[j]); mag += abs(Double(a[i * n + j] * xm[j])) }
                XCTAssertEqual(Double(y[i]), ref, accuracy: 1e-5 * mag + 1e-6, "A·x \(m)×\(n) row \(i)")
            }
            for j in 0..<n {
                var ref = 0.0, mag = 0.0
                for i in 0..<m { ref += Double(a[i * n + j]) * Double(xt[i]); mag += abs(Double(a[i * n + j] * xt[i])) }
                XCTAssertEqual(Double(yt[j]), ref, accuracy: 1e-5 * mag + 1e-6, "Aᵀ·x \(m)×\(n) column \(j)")
            }
        }
    }
}
