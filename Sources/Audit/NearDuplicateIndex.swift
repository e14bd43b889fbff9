import Foundation
import Imaging

/// Finds images that are augmented copies of each other (flips, small rotations/shears, brightness changes).
///
/// Two stages, tuned on HBFMID (see docs/review.md):
/// 1. A coarse 8×8 grey thumbnail, zero-mean and unit-norm, compared by dot product against each candidate and
///    its h, v and hv flips. Cheap, used only to rank candidates (the top `candidateCount`).
/// 2. A fine score: the normalised correlation of the query's central 38×38 of a 64×64 thumbnail, flipped
///    4 ways and rotated −10…10° in 1° steps (two independent ±5° augmentations), against the candidate's
///    unrotated centre. Correlation ignores the ±10 % brightness change; the centre crop ignores the black corners
///    that rotation adds. True copies score ≥ 0.90, different images of the same bone rarely above 0.87.
public struct NearDuplicateIndex: Sendable {
    public static let threshold: Float = 0.90
    public static let candidateCount = 25
    static let coarseSide = 8
    static let cropHalf = 19
    static let angles: [Float] = (-10...10).map(Float.init)
    static let flips: [(h: Bool, v: Bool)] = [(false, false), (true, false), (false, true), (true, true)]
    /// Crop length padded to a multiple of 8 for SIMD dot products.
    static let cropLength: Int = { let n = 4 * cropHalf * cropHalf; return (n + 7) / 8 * 8 }()

    private let thumbnails: [Thumbnail?]
    /// Per image: 4 flipped coarse vectors, 64 floats each (nil thumbnail → zeros).
    private let coarse: [Float]
    /// Per image: the normalised, unrotated centre crop.
    private let centres: [Float]

    public init(thumbnails: [Thumbnail?]) {
        self.thumbnails = thumbnails
        let c2 = Self.coarseSide * Self.coarseSide
        var coarse = [Float](repeating: 0, count: thumbnails.count * 4 * c2)
        var centres = [Float](repeating: 0, count: thumbnails.count * Self.cropLength)
        for (i, thumb) in thumbnails.enumerated() {
            guard let thumb else { continue }
            let small = Self.boxDown(thumb.values, side: Thumbnail.side, to: Self.coarseSide)
            for (f, flip) in Self.flips.enumerated() {
                var v = Self.flipped(small, side: Self.coarseSide, h: flip.h, v: flip.v)
                Self.normalise(&v, count: c2)
                coarse.replaceSubrange((i * 4 + f) * c2 ..< (i * 4 + f + 1) * c2, with: v)
            }
            var centre = Self.sample(thumb.values, angle: 0, h: false, v: false)
            Self.normalise(&centre, count: 4 * Self.cropHalf * Self.cropHalf)
            centres.replaceSubrange(i * Self.cropLength ..< (i + 1) * Self.cropLength, with: centre)
        }
        self.coarse = coarse
        self.centres = centres
    }

    public var count: Int { thumbnails.count }

    /// The most similar image of `pool` (never `query` itself) and its fine similarity, or nil if none has a
    /// thumbnail. The caller applies `threshold`.
    public func bestTwin(of query: Int, in pool: [Int]) -> (index: Int, similarity: Float)? {
        matches(of: query, in: pool).max { ($0.similarity, -$0.index) < ($1.similarity, -$1.index) }
    }

    /// Fine similarities of `query` to the top coarse candidates in `pool`.
    public func matches(of query: Int, in pool: [Int]) -> [(index: Int, similarity: Float)] {
        guard thumbnails[query] != nil else { return [] }
        let candidates = coarseCandidates(of: query, in: pool)
        if candidates.isEmpty { return [] }
        let variants = queryVariants(query)
        return candidates.map { j in (j, Self.bestFine(variants: variants, centres: centres, at: j)) }
    }

    /// The best dot product of the query's variants with the centre crop number `j` of `centres`.
    static func bestFine(variants: [Float], centres: [Float], at j: Int) -> Float {
        let n = cropLength, nv = variants.count / n
        var best: Float = -1
        variants.withUnsafeBufferPointer { vp in
            centres.withUnsafeBufferPointer { cp in
                let c = UnsafeRawPointer(cp.baseAddress! + j * n)
                for k in 0..<nv { best = max(best, dot(UnsafeRawPointer(vp.baseAddress! + k * n), c, count: n)) }
            }
        }
        return best
    }

    /// The best dot product of a normalised coarse query `q` with the 4 flipped coarse vectors at `flips`.
    static func bestCoarse(_ q: UnsafePointer<Float>, _ flips: UnsafePointer<Float>) -> Float {
        let c2 = coarseSide * coarseSide
        var best: Float = -2
        for f in 0..<4 {
            let t = flips + f * c2
            var s: Float = 0
            for k in 0..<c2 { s += q[k] * t[k] }
            best = max(best, s)
        }
        return best
    }

    private func coarseCandidates(of query: Int, in pool: [Int]) -> [Int] {
        let c2 = Self.coarseSide * Self.coarseSide
        var scored: [(Float, Int)] = []
        scored.reserveCapacity(pool.count)
        coarse.withUnsafeBufferPointer { cp in
            let q = cp.baseAddress! + query * 4 * c2
            for j in pool where j != query && thumbnails[j] != nil {
                scored.append((Self.bestCoarse(q, cp.baseAddress! + j * 4 * c2), j))
            }
        }
        // Ties broken by index so the result is deterministic.
        scored.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        return scored.prefix(Self.candidateCount).map(\.1)
    }

    private func queryVariants(_ query: Int) -> [Float] {
        guard let values = thumbnails[query]?.values else { return [] }
        return Self.variants(of: values)
    }

    /// The query side of the fine score: the centre crop of the thumbnail flipped 4 ways and rotated over
    /// `angles`, each normalised, `cropLength` floats apiece.
    static func variants(of values: [Float]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(Self.flips.count * Self.angles.count * Self.cropLength)
        for flip in Self.flips {
            for angle in Self.angles {
                var v = Self.sample(values, angle: angle, h: flip.h, v: flip.v)
                Self.normalise(&v, count: 4 * Self.cropHalf * Self.cropHalf)
                out += v
            }
        }
        return out
    }

    /// The coarse vector of a thumbnail (8×8 box average), and its centre crop (unrotated, unflipped):
    /// what the pool side of the matching needs, and all a training signature stores.
    static func coarseAndCentre(_ values: [Float]) -> (coarse: [Float], centre: [Float]) {
        let small = boxDown(values, side: Thumbnail.side, to: coarseSide)
        let centre = sample(values, angle: 0, h: false, v: false)
        return (small, Array(centre[0..<(4 * cropHalf * cropHalf)]))
    }

    // MARK: - Pixel helpers

    /// The central (2·cropHalf)² window of the (flipped) thumbnail rotated by `angle` degrees about its centre,
    /// bilinear, padded with zeros to `cropLength`.
    static func sample(_ img: [Float], angle: Float, h: Bool, v: Bool) -> [Float] {
        let n = Thumbnail.side, half = cropHalf
        let c = Float(n - 1) / 2
        let t = angle * .pi / 180, ct = cos(t), st = sin(t)
        var out = [Float](repeating: 0, count: cropLength)
        var k = 0
        for yi in -half..<half {
            let yy = Float(yi) + 0.5
            for xi in -half..<half {
                let xx = Float(xi) + 0.5
                var xs = ct * xx - st * yy + c
                var ys = st * xx + ct * yy + c
                if h { xs = Float(n - 1) - xs }
                if v { ys = Float(n - 1) - ys }
                let x0 = min(max(Int(xs.rounded(.down)), 0), n - 2)
                let y0 = min(max(Int(ys.rounded(.down)), 0), n - 2)
                let fx = min(max(xs - Float(x0), 0), 1), fy = min(max(ys - Float(y0), 0), 1)
                let a = img[y0 * n + x0] * (1 - fx) + img[y0 * n + x0 + 1] * fx
                let b = img[(y0 + 1) * n + x0] * (1 - fx) + img[(y0 + 1) * n + x0 + 1] * fx
                out[k] = a * (1 - fy) + b * fy
                k += 1
            }
        }
        return out
    }

    static func boxDown(_ img: [Float], side: Int, to small: Int) -> [Float] {
        let b = side / small
        var out = [Float](repeating: 0, count: small * small)
        for y in 0..<side { for x in 0..<side { out[(y / b) * small + x / b] += img[y * side + x] } }
        return out.map { $0 / Float(b * b) }
    }

    static func flipped(_ img: [Float], side: Int, h: Bool, v: Bool) -> [Float] {
        var out = img
        for y in 0..<side {
            for x in 0..<side {
                out[y * side + x] = img[(v ? side - 1 - y : y) * side + (h ? side - 1 - x : x)]
            }
        }
        return out
    }

    /// Zero mean and unit norm over the first `count` values (the padding stays 0).
    static func normalise(_ v: inout [Float], count: Int) {
        var mean: Float = 0
        for i in 0..<count { mean += v[i] }
        mean /= Float(count)
        var norm: Float = 0
        for i in 0..<count { v[i] -= mean; norm += v[i] * v[i] }
        let scale = 1 / (norm.squareRoot() + 1e-6)
        for i in 0..<count { v[i] *= scale }
    }

    @inline(__always)
    static func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var offset = 0
        let bytes = count * MemoryLayout<Float>.stride
        while offset < bytes {
            acc += a.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * b.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            offset += 32
        }
        return acc.sum()
    }
}
