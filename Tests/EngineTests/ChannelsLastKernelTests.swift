import CEngineKernels
@testable import Engine
import Foundation
@testable import Model
import XCTest

/// The channels-last kernels (packed GEMM, depthwise, unfolded general conv) on every instruction set this CPU
/// has, forced one at a time: against a naive double-precision reference over random shapes, strides, pads and
/// activations (ggml test-backend-ops style), against the PyTorch op fixtures, and the whole tiny models against
/// their PyTorch dumps.
final class ChannelsLastKernelTests: XCTestCase {
    func testForcingAnISAIsClampedToTheCPU() {
        let saved = fv_current_isa()
        defer { _ = fv_force_isa(saved) }
        _ = fv_force_isa(99)
        XCTAssertEqual(fv_current_isa(), fv_supported_isa())
        _ = fv_force_isa(-3)
        XCTAssertEqual(fv_current_isa(), Int32(FV_ISA_BASELINE))
    }

    // MARK: naive references

    private func randomFloats(_ n: Int, _ rng: inout KernelTestRandom, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) }
    }

    /// NHWC conv with groups 1 or depthwise, in Double, then the activation.
    private func referenceConv(x: [Float], n: Int, h: Int, w: Int, ci: Int, co: Int, k: (Int, Int), stride: (Int, Int),
                               pad: (Int, Int), depthwise: Bool, weight: [Float], bias: [Float], act: Activation,
                               residual: [Float]?, scale: [Float]?) -> [Float] {
        let ho = (h + 2 * pad.0 - k.0) / stride.0 + 1, wo = (w + 2 * pad.1 - k.1) / stride.1 + 1
        var y = [Float](repeating: 0, count: n * ho * wo * co)
        for b in 0..<n { for oy in 0..<ho { for ox in 0..<wo { for o in 0..<co {
            var s = Double(bias[o])
            for ky in 0..<k.0 { for kx in 0..<k.1 {
                let iy = oy * stride.0 - pad.0 + ky, ix = ox * stride.1 - pad.1 + kx
                guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
                let px = ((b * h + iy) * w + ix) * ci
                if depthwise {
                    s += Double(weight[(o * k.0 + ky) * k.1 + kx]) * Double(x[px + o])
                } else {
                    for c in 0..<ci {
                        let xv = Double(x[px + c]) * Double(scale?[c] ?? 1)
                        s += Double(weight[((o * ci + c) * k.0 + ky) * k.1 + kx]) * xv
                    }
                }
            } }
            let i = ((b * ho + oy) * wo + ox) * co + o
            y[i] = act(Float(s)) + (residual?[i] ?? 0)
        } } } }
        return y
    }

    private func assertClose(_ got: [Float], _ ref: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, ref.count, what, file: file, line: line)
        var worst: Float = 0
        for (a, b) in zip(got, ref) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
        XCTAssertLessThanOrEqual(worst, 2e-5, what, file: file, line: line)
        XCTAssertFalse(got.contains { !$0.isFinite }, what, file: file, line: line)
    }

    /// The squeeze-excitation pool a kernel returns: per channel, the sum of its outputs over every pixel.
    private func assertPoolSums(_ sums: [Float], of output: [Float], channels c: Int, _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        for ch in 0..<c {
            var s = Float(0)
            for p in stride(from: ch, to: output.count, by: c) { s += output[p] }
            XCTAssertEqual(sums[ch], s, accuracy: 1e-3 * max(1, abs(s)), "\(what): sum \(ch)", file: file, line: line)
        }
    }

    // MARK: random shapes

    /// One random 1×1 conv problem: rows across the micro-kernel heights (4, 6, 12) and their tails, columns across
    /// the 32-wide panels (a last panel with 1–8, 9–16, 17–24 and 25–32 columns: AVX2 runs each its own way),
    /// every activation, with a residual every third trial and an input (SE) scale every fourth.
    private struct GEMMCase {
        let rows, n, k: Int
        let act: Activation
        let x, bias: [Float]
        let residual, scale: [Float]?
        var what: String { "rows \(rows) n \(n) k \(k) \(act) residual \(residual != nil) scale \(scale != nil)" }
    }

    private func gemmCase(_ trial: Int, _ rng: inout KernelTestRandom) -> GEMMCase {
        let rows = [1, 5, 11, 12, 13, 25, 49, 97, 130][trial % 9]
        let n = [1, 7, 16, 20, 24, 31, 32, 33, 56, 70, 100][trial % 11]
        // Every fifth k as deep as a projection's (the GEMM then takes its rows in blocks of at least 8 tiles, more
        // than one block on the longer cases, and widens each half panel once per block).
        let k = trial % 5 == 2 ? Int.random(in: 300...1_200, using: &rng) : Int.random(in: 1...80, using: &rng)
        return GEMMCase(rows: rows, n: n, k: k, act: Activation.allCases[trial % Activation.allCases.count],
                        x: randomFloats(rows * k, &rng), bias: randomFloats(n, &rng),
                        residual: trial % 3 == 0 ? randomFloats(rows * n, &rng) : nil,
                        scale: trial % 4 == 1 ? randomFloats(k, &rng, scale: 2) : nil)
    }

    /// `conv` (k → n, packed) on the case's rows, through the production call.
    private func run(_ conv: Conv2d, on c: GEMMCase) -> [Float] {
        let xt = Tensor(shape: [1, c.rows, 1, c.k], values: c.x), y = Tensor(shape: [1, c.rows, 1, c.n])
        let rt = c.residual.map { Tensor(shape: [1, c.rows, 1, c.n], values: $0) }
        c.scale.map { s in
            s.withUnsafeBufferPointer { conv.forwardChannelsLast(xt, into: y, workspace: Workspace(), residual: rt, inputScale: $0.baseAddress!) }
        } ?? conv.forwardChannelsLast(xt, into: y, workspace: Workspace(), residual: rt)
        return y.values
    }

    private func reference(_ c: GEMMCase, weight: [Float], bias: [Float]) -> [Float] {
        referenceConv(x: c.x, n: 1, h: c.rows, w: 1, ci: c.k, co: c.n, k: (1, 1), stride: (1, 1), pad: (0, 0),
                      depthwise: false, weight: weight, bias: bias, act: c.act, residual: c.residual, scale: c.scale)
    }

    func testPointwiseGEMMOverRandomShapes() {
        var rng = KernelTestRandom(seed: 11)
        forEachISA { isa in
            for trial in 0..<60 {
                let c = gemmCase(trial, &rng), w = randomFloats(c.n * c.k, &rng, scale: 0.5)
                let conv = Conv2d(inChannels: c.k, outChannels: c.n, kernelSize: 1, weight: w, bias: c.bias, activation: c.act)
                XCTAssertEqual(conv.kind, .pointwise)
                conv.prepareChannelsLast()
                assertClose(run(conv, on: c), reference(c, weight: w, bias: c.bias), "\(isa) pointwise \(c.what)")
            }
        }
    }

    /// Weights exact in half precision (as the shipped F16 files give), some of them half subnormals.
    private func halfExactFloats(_ n: Int, _ rng: inout KernelTestRandom, scale: Float) -> [Float] {
        (0..<n).map { i in
            if i % 17 == 5 { return Float(Float16(bitPattern: UInt16.random(in: 1...0x3FF, using: &rng) | (i % 2 == 0 ? 0x8000 : 0))) }
            return Float(Float16(Float.random(in: -scale...scale, using: &rng)))
        }
    }

    /// Half-precision panels with a batch norm kept as the output scale (how the shipped F16 members load), on every
    /// ISA, the baseline's software widening included: against the naive reference on the folded weights, and
    /// against the same conv packed in F32.
    func testPointwiseGEMMOnHalfPanelsOverRandomShapes() {
        var rng = KernelTestRandom(seed: 18)
        forEachISA { isa in
            for trial in 0..<60 {
                let c = gemmCase(trial, &rng), withNorm = trial % 5 != 4
                let w = halfExactFloats(c.n * c.k, &rng, scale: 0.5)
                let normScale = randomFloats(c.n, &rng, scale: 3), normShift = randomFloats(c.n, &rng)
                func make(half: Bool) -> Conv2d {
                    let conv = Conv2d(inChannels: c.k, outChannels: c.n, kernelSize: 1, weight: w, bias: c.bias, activation: c.act)
                    if withNorm { conv.scaleOutputChannels(scale: normScale, shift: normShift) }
                    conv.prepareChannelsLast(keepingNCHW: false, halfPanels: half)
                    return conv
                }
                let half = make(half: true), single = make(half: false)
                XCTAssertFalse(half.channelsLastHalfWeight.isEmpty, "\(isa): half-exact weights pack in half precision")
                XCTAssertTrue(half.channelsLastWeight.isEmpty)
                XCTAssertEqual(half.channelsLastHalfWeight.count, single.channelsLastWeight.count)
                XCTAssertEqual(half.outputScale.isEmpty, !withNorm, "the batch norm's scale stays out of the weights")
                // The reference folds the norm into the weights in Double.
                var folded = w.map(Double.init), foldedBias = c.bias.map(Double.init)
                if withNorm {
                    for o in 0..<c.n {
                        for i in 0..<c.k { folded[o * c.k + i] *= Double(normScale[o]) }
                        foldedBias[o] = foldedBias[o] * Double(normScale[o]) + Double(normShift[o])
                    }
                }
                let what = "\(isa) half pointwise \(c.what) norm \(withNorm)"
                let got = run(half, on: c)
                assertClose(got, reference(c, weight: folded.map(Float.init), bias: foldedBias.map(Float.init)), what)
                assertClose(got, run(single, on: c), what + " vs F32 panels")
            }
        }
    }

    /// A ReLU-like input as the projections read it: most values exactly zero, some columns zero in every row (a
    /// dead channel), some zero only in a few rows' runs (so a tile of 6 or 12 rows sees them zero while another
    /// does not), a few -0s, and on every fourth case a NaN alone in an otherwise zero column.
    private func sparseInput(rows: Int, k: Int, trial: Int, _ rng: inout KernelTestRandom) -> (x: [Float], nanAt: Int?) {
        var x = [Float](repeating: 0, count: rows * k)
        let dead = Set((0..<k).filter { _ in Float.random(in: 0...1, using: &rng) < 0.3 })
        let density = [0.05, 0.25, 0.6][trial % 3]
        for i in 0..<rows {
            for r in 0..<k where !dead.contains(r) {
                // Runs of rows: column r is live on rows whose block of 5 draws it.
                if Float.random(in: 0...1, using: &rng) < Float(density) || (i / 5 + r) % 7 == 0 {
                    x[i * k + r] = Float.random(in: 0...6, using: &rng)
                } else if (i + r) % 11 == 0 {
                    x[i * k + r] = -0.0
                }
            }
        }
        guard trial % 4 == 3, let column = dead.first else { return (x, nil) }
        let row = trial % rows
        x[row * k + column] = .nan
        return (x, row)
    }

    /// The GEMM runs a tile over the list of its non-zero columns only: on ReLU-like inputs, F32 and half panels,
    /// every ISA, it gives the same values as the dense sums (the same bits: the skipped products are exact zeros)
    /// and the naive reference's, and a NaN in a column otherwise zero still reaches its row.
    func testPointwiseGEMMSkipsZeroColumnsWithTheSameResult() {
        var rng = KernelTestRandom(seed: 29)
        let saved = fv_set_zero_column_skipping(1)
        defer { _ = fv_set_zero_column_skipping(saved) }
        forEachISA { isa in
            for trial in 0..<36 {
                let rows = [1, 6, 12, 13, 49, 97, 196, 400][trial % 8]
                let n = [8, 40, 72, 96, 112, 160][trial % 6]  // lists from three panels on
                let k = trial % 6 == 5 ? Int.random(in: 8...63, using: &rng) : Int.random(in: 64...1_300, using: &rng)
                let (x, nanRow) = sparseInput(rows: rows, k: k, trial: trial, &rng)
                let c = GEMMCase(rows: rows, n: n, k: k, act: Activation.allCases[trial % Activation.allCases.count],
                                 x: x, bias: randomFloats(n, &rng),
                                 residual: trial % 3 == 0 ? randomFloats(rows * n, &rng) : nil,
                                 scale: trial % 5 == 1 ? randomFloats(k, &rng, scale: 2) : nil)
                let w = halfExactFloats(n * k, &rng, scale: 0.5)
                for half in [false, true] {
                    let conv = Conv2d(inChannels: k, outChannels: n, kernelSize: 1, weight: w, bias: c.bias, activation: c.act)
                    conv.prepareChannelsLast(keepingNCHW: false, halfPanels: half)
                    _ = fv_set_zero_column_skipping(0)
                    let dense = run(conv, on: c)
                    _ = fv_set_zero_column_skipping(1)
                    let skipping = run(conv, on: c)
                    let what = "\(isa) \(half ? "half" : "F32") \(c.what)"
                    XCTAssertEqual(skipping.count, dense.count, what)
                    let differing = zip(skipping, dense).filter { $0 != $1 && !($0.isNaN && $1.isNaN) }.count
                    XCTAssertEqual(differing, 0, "\(what): values that differ from the dense sums")
                    if let nanRow, c.act == .identity {
                        // Every output of the NaN's row is NaN, no other (the vector max of ReLU and the exp's
                        // clamp turn a NaN into a number, so only the identity shows it).
                        for i in 0..<rows {
                            let nans = skipping[(i * n)..<((i + 1) * n)].filter(\.isNaN).count
                            XCTAssertEqual(nans, i == nanRow ? n : 0, "\(what): NaNs in row \(i)")
                        }
                    } else if nanRow == nil {
                        assertClose(skipping, reference(c, weight: w, bias: c.bias), what)
                    }
                }
            }
        }
    }

    /// Only finite values exact in half precision pack as halves.
    func testOnlyExactFiniteWeightsPackInHalfPrecision() {
        XCTAssertNotNil(HalfPrecision.exactBits([0, -0.0, 1, -2.5, 65504, Float(Float16.leastNonzeroMagnitude)]))
        XCTAssertEqual(HalfPrecision.exactBits([1, -0.0])!, [0x3C00, 0x8000])
        XCTAssertNil(HalfPrecision.exactBits([1, 0.1]), "0.1 is not a half")
        XCTAssertNil(HalfPrecision.exactBits([1, 1e-9]), "below the smallest half")
        XCTAssertNil(HalfPrecision.exactBits([.infinity]))
        XCTAssertNil(HalfPrecision.exactBits([.nan]))
        let conv = Conv2d(inChannels: 2, outChannels: 2, kernelSize: 1, weight: [1, 0.1, 0.5, 2])
        conv.prepareChannelsLast(halfPanels: true)
        XCTAssertTrue(conv.channelsLastHalfWeight.isEmpty, "a weight that is not a half keeps the F32 panels")
        XCTAssertFalse(conv.channelsLastWeight.isEmpty)
    }

    func testDepthwiseOverRandomShapesStridesAndPads() {
        var rng = KernelTestRandom(seed: 12)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        forEachISA { isa in
            var paths = (small: 0, rows: 0, fixedRows: 0)  // which kernel each shape took
            defer {
                if isa != "baseline" {
                    XCTAssertGreaterThan(paths.small, 5, "\(isa): the small-map (padded tile) kernel was exercised")
                    XCTAssertGreaterThan(paths.rows, 5, "\(isa): the row kernel was exercised")
                    // The fixed 3×3 / 5×5 row kernel: larger maps, rows of 14 outputs or more.
                    XCTAssertGreaterThan(paths.fixedRows, 3, "\(isa): the fixed-size row kernel was exercised")
                }
            }
            for trial in 0..<60 {
                // 1–3 threads: the small-map kernel splits a 3×3 conv's rows, and a 5×5 conv's rows on maps of 96
                // pixels or more, its channels on smaller ones (both splits occur below).
                Parallel.threads = [2, 1, 3][trial % 3]
                // Channel counts around the 16- and 64-lane blocks; maps wide enough (≥ 14) for the unrolled path.
                let k = [1, 3, 5, 7, 3, 5][trial % 6], stride = 1 + trial % 2
                // (A one-channel 1×1 stride-1 conv is a pointwise conv, so k = 1 starts at two channels.)
                let c = max(k == 1 ? 2 : 1, [1, 5, 16, 17, 24, 48, 63, 64, 65, 100][trial % 10])
                let pad = trial % 5 == 4 ? 0 : (trial % 7 == 3 ? k / 2 + 1 : k / 2)
                // Every fourth map is larger than the small-map kernel takes (over 48 × 48 padded pixels); the
                // others' 20–30-pixel sides fall either side of its 24 × 24 limit at stride 2 and on AVX2.
                let large = trial % 4 == 3
                let h = Int.random(in: large ? 48...56 : max(1, k - 2 * pad)...20, using: &rng)
                let w = Int.random(in: large ? 48...60 : max(1, k - 2 * pad)...30, using: &rng)
                let n = trial % 8 == 0 ? 2 : 1
                let act = Activation.allCases[trial % Activation.allCases.count]
                let x = randomFloats(n * h * w * c, &rng), wt = randomFloats(c * k * k, &rng), bias = randomFloats(c, &rng)
                let conv = Conv2d(inChannels: c, outChannels: c, kernelSize: k, stride: stride, padding: pad, groups: c,
                                  weight: wt, bias: bias, activation: act)
                XCTAssertEqual(conv.kind, .depthwise)
                conv.prepareChannelsLast()
                let small = fv_depthwise_small_supported(h, w, Int32(k), Int32(k), Int32(stride), Int32(stride), Int32(pad), Int32(pad)) != 0
                if small { paths.small += 1 } else { paths.rows += 1 }
                let (ho, wo) = conv.outputSize(height: h, width: w)
                if !small, k == 3 || k == 5, wo >= 14 { paths.fixedRows += 1 }
                let y = Tensor(shape: [n, ho, wo, c])
                var sums = [Float](repeating: .nan, count: n * c)
                sums.withUnsafeMutableBufferPointer {
                    conv.forwardChannelsLast(Tensor(shape: [n, h, w, c], values: x), into: y,
                                             workspace: Workspace(), channelSums: $0.baseAddress!)
                }
                let ref = referenceConv(x: x, n: n, h: h, w: w, ci: c, co: c, k: (k, k), stride: (stride, stride),
                                        pad: (pad, pad), depthwise: true, weight: wt, bias: bias, act: act, residual: nil, scale: nil)
                let what = "\(isa) depthwise c \(c) k \(k) s \(stride) p \(pad) \(h)×\(w) batch \(n) \(act) threads \(Parallel.threads)"
                assertClose(y.values, ref, what)
                var refSums = [Float](repeating: 0, count: n * c)
                for b in 0..<n { for p in 0..<(ho * wo) { for ch in 0..<c { refSums[b * c + ch] += ref[(b * ho * wo + p) * c + ch] } } }
                for i in 0..<(n * c) {
                    XCTAssertEqual(sums[i], refSums[i], accuracy: 1e-3 * max(1, abs(refSums[i])), "\(what): sum \(i)")
                }
            }
        }
    }

    /// The fused expand → depthwise kernel against the naive expand then the naive depthwise, over random sizes,
    /// kernels, strides and thread splits (the ring refills at every chunk edge).
    func testFusedExpandDepthwiseOverRandomShapes() {
        var rng = KernelTestRandom(seed: 15)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        forEachISA { isa in
            for trial in 0..<40 {
                let expandUnderTest: Conv2d
                Parallel.threads = [1, 2, 3][trial % 3]
                let cin = Int.random(in: 1...40, using: &rng), c = [16, 24, 33, 64, 96, 100][trial % 6]
                let k = [3, 5, 3, 5, 7][trial % 5], stride = 1 + trial % 2, pad = k / 2
                let h = Int.random(in: 1...26, using: &rng), w = Int.random(in: 1...30, using: &rng)
                let x = randomFloats(h * w * cin, &rng), we = randomFloats(c * cin, &rng, scale: 0.5), be = randomFloats(c, &rng)
                let wd = randomFloats(c * k * k, &rng), bd = randomFloats(c, &rng)
                let expand = Conv2d(inChannels: cin, outChannels: c, kernelSize: 1, weight: we, bias: be, activation: .silu)
                let dw = Conv2d(inChannels: c, outChannels: c, kernelSize: k, stride: stride, padding: pad, groups: c,
                                weight: wd, bias: bd, activation: trial % 4 == 0 ? .relu6 : .silu)
                // Odd trials: the expansion in half precision with its norm as the output scale (the shipped members).
                let half = trial % 2 == 1
                var foldedExpand = we, foldedExpandBias = be
                if half {
                    foldedExpand = we.map { Float(Float16($0)) }
                    let halfExpand = Conv2d(inChannels: cin, outChannels: c, kernelSize: 1, weight: foldedExpand, bias: be,
                                            activation: .silu)
                    let normScale = randomFloats(c, &rng, scale: 2), normShift = randomFloats(c, &rng)
                    halfExpand.scaleOutputChannels(scale: normScale, shift: normShift)
                    halfExpand.prepareChannelsLast(halfPanels: true)
                    XCTAssertFalse(halfExpand.channelsLastHalfWeight.isEmpty)
                    for o in 0..<c {
                        for i in 0..<cin { foldedExpand[o * cin + i] = Float(Double(foldedExpand[o * cin + i]) * Double(normScale[o])) }
                        foldedExpandBias[o] = Float(Double(be[o]) * Double(normScale[o]) + Double(normShift[o]))
                    }
                    expandUnderTest = halfExpand
                } else {
                    expand.prepareChannelsLast()
                    expandUnderTest = expand
                }
                dw.prepareChannelsLast()
                let (ho, wo) = dw.outputSize(height: h, width: w)
                let y = Tensor(shape: [1, ho, wo, c])
                var sums = [Float](repeating: .nan, count: c)
                sums.withUnsafeMutableBufferPointer {
                    dw.forwardChannelsLast(fusingExpand: expandUnderTest, Tensor(shape: [1, h, w, cin], values: x), into: y,
                                           workspace: Workspace(capacity: dw.fusedExpandScratchCount(height: h, width: w)),
                                           channelSums: $0.baseAddress!)
                }
                let expanded = referenceConv(x: x, n: 1, h: h, w: w, ci: cin, co: c, k: (1, 1), stride: (1, 1), pad: (0, 0),
                                             depthwise: false, weight: foldedExpand, bias: foldedExpandBias, act: .silu,
                                             residual: nil, scale: nil)
                let ref = referenceConv(x: expanded, n: 1, h: h, w: w, ci: c, co: c, k: (k, k), stride: (stride, stride),
                                        pad: (pad, pad), depthwise: true, weight: wd, bias: bd, act: dw.activation,
                                        residual: nil, scale: nil)
                let what = "\(isa) fused cin \(cin) c \(c) k \(k) s \(stride) \(h)×\(w) threads \(Parallel.threads) half \(half)"
                assertClose(y.values, ref, what)
                assertPoolSums(sums, of: ref, channels: c, what)
            }
        }
    }

    /// The stem (a general conv on the NCHW image, 3×3/2 as in EfficientNet, or other geometries) fused into the
    /// first depthwise conv, against the two naive references one after the other.
    func testFusedStemDepthwiseOverRandomShapes() {
        var rng = KernelTestRandom(seed: 17)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        forEachISA { isa in
            for trial in 0..<30 {
                Parallel.threads = [1, 2, 3][trial % 3]
                let ci = [3, 1, 2][trial % 3], c = [32, 16, 24, 40, 48][trial % 5]
                let sk = [3, 3, 5, 1][trial % 4], ss = [2, 1, 2, 1][trial % 4], sp = sk / 2
                let k = [3, 5][trial % 2], stride = 1 + (trial / 2) % 2, pad = k / 2
                let ih = Int.random(in: sk...40, using: &rng), iw = Int.random(in: sk...40, using: &rng)
                let image = randomFloats(ci * ih * iw, &rng), ws = randomFloats(c * ci * sk * sk, &rng, scale: 0.5)
                let bs = randomFloats(c, &rng), wd = randomFloats(c * k * k, &rng), bd = randomFloats(c, &rng)
                let stem = Conv2d(inChannels: ci, outChannels: c, kernel: (sk, sk), stride: (ss, ss), padding: (sp, sp),
                                  weight: ws, bias: bs, activation: trial % 2 == 0 ? .relu6 : .silu)
                let dw = Conv2d(inChannels: c, outChannels: c, kernelSize: k, stride: stride, padding: pad, groups: c,
                                weight: wd, bias: bd, activation: trial % 3 == 0 ? .relu6 : .silu)
                if stem.kind != .general { continue }
                stem.prepareChannelsLast(); dw.prepareChannelsLast()
                let (h, w) = stem.outputSize(height: ih, width: iw)
                let (ho, wo) = dw.outputSize(height: h, width: w)
                let y = Tensor(shape: [1, ho, wo, c])
                var sums = [Float](repeating: .nan, count: c)
                sums.withUnsafeMutableBufferPointer {
                    dw.forwardChannelsLast(fusingStem: stem, image: Tensor(shape: [1, ci, ih, iw], values: image), into: y,
                                           workspace: Workspace(capacity: dw.fusedStemScratchCount(stem: stem, height: h, width: w)),
                                           channelSums: $0.baseAddress!)
                }
                // The references are NHWC: the image transposed first.
                var nhwc = [Float](repeating: 0, count: image.count)
                for ch in 0..<ci { for p in 0..<(ih * iw) { nhwc[p * ci + ch] = image[ch * ih * iw + p] } }
                let stemmed = referenceConv(x: nhwc, n: 1, h: ih, w: iw, ci: ci, co: c, k: (sk, sk), stride: (ss, ss),
                                            pad: (sp, sp), depthwise: false, weight: ws, bias: bs, act: stem.activation,
                                            residual: nil, scale: nil)
                let ref = referenceConv(x: stemmed, n: 1, h: h, w: w, ci: c, co: c, k: (k, k), stride: (stride, stride),
                                        pad: (pad, pad), depthwise: true, weight: wd, bias: bd, act: dw.activation,
                                        residual: nil, scale: nil)
                let what = "\(isa) stem+dw ci \(ci) c \(c) stem \(sk)/\(ss) k \(k) s \(stride) \(ih)×\(iw) threads \(Parallel.threads)"
                assertClose(y.values, ref, what)
                assertPoolSums(sums, of: ref, channels: c, what)
            }
        }
    }

    func testGeneralConvOverRandomShapes() {
        var rng = KernelTestRandom(seed: 13)
        forEachISA { isa in
            for trial in 0..<30 {
                let ci = Int.random(in: 1...5, using: &rng), co = [3, 8, 32, 33, 48][trial % 5]
                let kh = [1, 2, 3, 5][trial % 4], kw = [3, 1, 3, 5][(trial / 4) % 4]
                let stride = (1 + trial % 3, 1 + (trial / 3) % 2), pad = (kh / 2, trial % 2 == 0 ? kw / 2 : 0)
                let h = Int.random(in: kh...16, using: &rng), w = Int.random(in: kw...16, using: &rng)
                let n = trial % 5 == 0 ? 2 : 1
                let act = Activation.allCases[trial % Activation.allCases.count]
                let x = randomFloats(n * h * w * ci, &rng), wt = randomFloats(co * ci * kh * kw, &rng), bias = randomFloats(co, &rng)
                let conv = Conv2d(inChannels: ci, outChannels: co, kernel: (kh, kw), stride: stride, padding: pad,
                                  weight: wt, bias: bias, activation: act)
                if conv.kind == .pointwise { continue }
                conv.prepareChannelsLast()
                let (ho, wo) = conv.outputSize(height: h, width: w)
                let xt = Tensor(shape: [n, h, w, ci], values: x), y = Tensor(shape: [n, ho, wo, co])
                conv.forwardChannelsLast(xt, into: y, workspace: Workspace(capacity: conv.channelsLastScratchCount(height: h, width: w)))
                let ref = referenceConv(x: x, n: n, h: h, w: w, ci: ci, co: co, k: (kh, kw), stride: stride, pad: pad,
                                        depthwise: false, weight: wt, bias: bias, act: act, residual: nil, scale: nil)
                assertClose(y.values, ref, "\(isa) conv ci \(ci) co \(co) k \(kh)×\(kw) s \(stride) p \(pad) \(h)×\(w) \(act)")
                // The same conv reading the input as NCHW (how the stem reads the model's input).
                let nchw = Tensor(shape: [n, ci, h, w])
                for b in 0..<n { Layout.transpose(xt.data + b * h * w * ci, rows: h * w, columns: ci, into: nchw.data + b * h * w * ci) }
                let y2 = Tensor(shape: [n, ho, wo, co])
                conv.forwardChannelsLast(nchw, into: y2, workspace: Workspace(), inputIsNCHW: true)
                assertClose(y2.values, ref, "\(isa) conv from NCHW ci \(ci) co \(co) k \(kh)×\(kw) s \(stride) \(h)×\(w)")
            }
        }
    }

    // MARK: PyTorch fixtures

    /// The PyTorch op fixtures (NCHW) through the channels-last path: transposed in, transposed back.
    func testOpFixturesChannelsLast() throws {
        try forEachISA { isa in
            for name in ["conv3x3_s1", "conv3x3_s2_batch2", "conv5x5_s2_nobias", "conv1x1_s2", "conv1x1",
                         "depthwise_k3_s1", "depthwise_k3_s2", "depthwise_k5_s1", "depthwise_k5_s2"] {
                let f = try Fixtures.open("ops/" + name)
                let x = try f.tensor("input"), w = try f.tensor("weight"), ref = try f.tensor("output")
                let conv = Conv2d(inChannels: x.shape[1], outChannels: w.shape[0], kernelSize: f.int("kernel"),
                                  stride: f.int("stride"), padding: f.int("padding"), groups: f.int("groups"),
                                  weight: w.values, bias: f.entry("bias") != nil ? try f.floats("bias") : nil)
                conv.prepareChannelsLast()
                let (n, c, h, wd) = x.nchw
                let xl = Tensor(shape: [n, h, wd, c])
                for b in 0..<n { Layout.transpose(x.data + b * c * h * wd, rows: c, columns: h * wd, into: xl.data + b * c * h * wd) }
                let y = Tensor(shape: [n, ref.shape[2], ref.shape[3], ref.shape[1]])
                conv.forwardChannelsLast(xl, into: y, workspace: Workspace(capacity: conv.channelsLastScratchCount(height: h, width: wd)))
                let back = Tensor(shape: ref.shape)
                let plane = ref.shape[2] * ref.shape[3], co = ref.shape[1]
                for b in 0..<n { Layout.transpose(y.data + b * plane * co, rows: plane, columns: co, into: back.data + b * plane * co) }
                XCTAssertClose(back.values, ref.values, "\(isa) \(name)")
            }
        }
    }

    /// The tiny whole models against their PyTorch dumps, on every ISA (the default ISA runs in ModelTests too).
    func testTinyModelsOnEveryISA() throws {
        try forEachISA { isa in
            for model in ["tiny_b0", "tiny_lite0"] {
                let classifier = try FractureClassifier(contentsOf: Fixtures.path("model_\(model).safetensors"))
                let expected = try Fixtures.open("expected_\(model)")
                for name in Fixtures.inputNames {
                    let out = classifier.run(input: try Fixtures.open("input_\(name)").floats("input"), maps: .none)
                    XCTAssertLessThanOrEqual(maxAbsoluteError(out.probabilities, try expected.floats("\(name).probabilities")), 1e-4,
                                             "\(isa) \(model) \(name) probabilities")
                    XCTAssertLessThanOrEqual(maxAbsoluteError(out.attention.values, try expected.floats("\(name).attention")), 1e-4,
                                             "\(isa) \(model) \(name) attention")
                }
            }
        }
    }

    /// The backbone frees its NCHW weights after packing: the NCHW path refuses rather than reading freed memory.
    func testBackboneKeepsOnlyThePackedWeights() throws {
        let classifier = try FractureClassifier(contentsOf: Fixtures.path("model_tiny_b0.safetensors"))
        XCTAssertTrue(classifier.features.stem.weight.isEmpty)
        XCTAssertFalse(classifier.features.stem.channelsLastWeight.isEmpty)
        XCTAssertTrue(classifier.features.head.isPacked)
        XCTAssertTrue(classifier.head.gate1.weight.isEmpty, "the head's gate runs on its panels too")
        XCTAssertTrue(classifier.head.gateBackward.isPacked && classifier.head.gateBackward.weight.isEmpty,
                      "the CAM backward's transposed gate: panels only")
    }

    func testLayoutTransposeRoundTrips() {
        var rng = KernelTestRandom(seed: 14)
        for (r, c) in [(1, 1), (3, 50176), (33, 65), (1792, 49), (64, 64)] {
            let a = randomFloats(r * c, &rng)
            var t = [Float](repeating: 0, count: r * c), back = t
            a.withUnsafeBufferPointer { src in t.withUnsafeMutableBufferPointer { Layout.transpose(src.baseAddress!, rows: r, columns: c, into: $0.baseAddress!) } }
            for (i, j) in [(0, 0), (r - 1, c - 1), (r / 2, c / 3)] { XCTAssertEqual(t[j * r + i], a[i * c + j], "\(r)×\(c) [\(i), \(j)]") }
            t.withUnsafeBufferPointer { src in back.withUnsafeMutableBufferPointer { Layout.transpose(src.baseAddress!, rows: c, columns: r, into: $0.baseAddress!) } }
            XCTAssertEqual(back, a, "\(r)×\(c)")
        }
    }
}

/// SplitMix64, so that a failing shape is reproducible.
struct KernelTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
