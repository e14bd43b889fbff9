import CEngineKernels
import XCTest
@testable import Engine

/// The split matrix-vector products against a naive double-precision reference, over shapes on both sides of the
/// per-thread threshold (one chunk, several, ragged splits), on every ISA this CPU has, with an F32 matrix and with
/// one of half-precision bit patterns.
final class MatrixVectorTests: XCTestCase {
    func testBothOrientationsMatchANaiveReferenceOverManyShapes() {
        var rng = KernelTestRandom(seed: 0x5EED)
        func next() -> Float { Float.random(in: -1...1, using: &rng) }
        forEachISA { isa in
            for (m, n) in [(1, 1), (3, 5), (144, 1280), (512, 1280), (1280, 512), (10, 512), (7, 70_000), (70_001, 3), (49, 17)] {
                for half in [false, true] {
                    // Half-precision values (subnormals among them) for the half matrix; any floats for the F32 one.
                    let a = (0..<(m * n)).map { i -> Float in
                        guard half else { return next() }
                        return i % 97 == 3 ? Float(Float16(bitPattern: UInt16(i % 1023 + 1))) : Float(Float16(next()))
                    }
                    let halves = half ? HalfPrecision.exactBits(a)! : []
                    let xm = (0..<n).map { _ in next() }, xt = (0..<m).map { _ in next() }
                    var y = [Float](repeating: .nan, count: m), yt = [Float](repeating: .nan, count: n)
                    a.withUnsafeBufferPointer { ap in halves.withUnsafeBufferPointer { hp in
                        let matrix = half ? fv_matrix(f32: nil, f16: hp.baseAddress) : fv_matrix(f32: ap.baseAddress, f16: nil)
                        xm.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer {
                                MatrixVector.multiply(m: m, n: n, matrix: matrix, x: xp.baseAddress!, y: $0.baseAddress!)
                            }
                        }
                        xt.withUnsafeBufferPointer { xp in
                            yt.withUnsafeMutableBufferPointer {
                                MatrixVector.multiply(transposed: true, m: m, n: n, matrix: matrix, x: xp.baseAddress!, y: $0.baseAddress!)
                            }
                        }
                    } }
                    let what = "\(isa) \(half ? "half" : "F32") \(m)×\(n)"
                    for i in 0..<m {
                        var ref = 0.0, mag = 0.0
                        for j in 0..<n { ref += Double(a[i * n + j]) * Double(xm[j]); mag += abs(Double(a[i * n + j] * xm[j])) }
                        XCTAssertEqual(Double(y[i]), ref, accuracy: 1e-5 * mag + 1e-6, "A·x \(what) row \(i)")
                    }
                    for j in 0..<n {
                        var ref = 0.0, mag = 0.0
                        for i in 0..<m { ref += Double(a[i * n + j]) * Double(xt[i]); mag += abs(Double(a[i * n + j] * xt[i])) }
                        XCTAssertEqual(Double(yt[j]), ref, accuracy: 1e-5 * mag + 1e-6, "Aᵀ·x \(what) column \(j)")
                    }
                }
            }
        }
    }

    /// A linear layer with a batch norm folded in, its weights kept in half precision (fc1 of the shipped members):
    /// forward and backward equal the same layer on F32 weights with the norm folded into them, to rounding.
    func testALinearLayerInHalfPrecisionWithItsNormAsAnOutputScale() {
        var rng = KernelTestRandom(seed: 0x11AF)
        func next(_ s: Float = 1) -> Float { Float.random(in: -s...s, using: &rng) }
        let (inF, outF) = (300, 70)
        let w = (0..<(inF * outF)).map { _ in Float(Float16(next(0.2))) }, b = (0..<outF).map { _ in next() }
        let scale = (0..<outF).map { _ in next(2) }, shift = (0..<outF).map { _ in next() }
        let half = Linear(inFeatures: inF, outFeatures: outF, weight: w, bias: b)
        half.scaleOutputs(scale: scale, shift: shift)
        XCTAssertEqual(half.keepHalfPrecision(), HalfPrecision.widenedInHardware)
        if HalfPrecision.widenedInHardware {
            XCTAssertTrue(half.weight.isEmpty)
            XCTAssertEqual(half.halfWeight.count, inF * outF)
        }
        var folded = w
        for o in 0..<outF { for i in 0..<inF { folded[o * inF + i] = Float(Double(w[o * inF + i]) * Double(scale[o])) } }
        let single = Linear(inFeatures: inF, outFeatures: outF, weight: folded,
                            bias: (0..<outF).map { Float(Double(b[$0]) * Double(scale[$0]) + Double(shift[$0])) })
        XCTAssertFalse(Linear(inFeatures: 1, outFeatures: 1, weight: [0.1]).keepHalfPrecision(), "0.1 is not a half")
        forEachISA { isa in
            let x = (0..<(2 * inF)).map { _ in next() }, dy = (0..<outF).map { _ in next() }
            XCTAssertClose(half(x), single(x), tolerance: 1e-4, "\(isa) forward, two rows")
            XCTAssertClose(half.backward(outputGradient: dy), single.backward(outputGradient: dy), tolerance: 1e-4, "\(isa) backward")
        }
    }
}
