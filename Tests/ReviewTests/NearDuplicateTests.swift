@testable import Audit
import Foundation
@testable import Imaging
@testable import Metrics
import Model
import XCTest

/// The near-duplicate detector on procedurally drawn "X-rays" and the augmentations HBFMID applied to them.
final class NearDuplicateTests: XCTestCase {
    /// A smooth random scene of bright elongated blobs ("bones") on a dark background, 320×320.
    static func scene(seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) }
        let n = 320
        var img = [Float](repeating: 20, count: n * n)
        for _ in 0..<7 {
            let cx = uniform() * Float(n), cy = uniform() * Float(n)
            let angle = uniform() * .pi, len = 40 + uniform() * 120, wid = 8 + uniform() * 25, level = 80 + uniform() * 150
            let ca = cos(angle), sa = sin(angle)
            for y in 0..<n { for x in 0..<n {
                let dx = Float(x) - cx, dy = Float(y) - cy
                let u = (dx * ca + dy * sa) / len, v = (-dx * sa + dy * ca) / wid
                let r = u * u + v * v
                if r < 1 { img[y * n + x] = max(img[y * n + x], level * (1 - 0.3 * r)) }
            } }
        }
        return img
    }

    /// Flip, rotate about the centre (bilinear, black corners), shear x, scale brightness.
    static func augment(_ src: [Float], hflip: Bool = false, vflip: Bool = false, degrees: Float = 0,
                        shear: Float = 0, brightness: Float = 1) -> RGBImage {
        let n = 320, c = Float(n - 1) / 2
        let t = degrees * .pi / 180, ct = cos(t), st = sin(t), sh = tan(shear * .pi / 180)
        var pixels = [UInt8](repeating: 0, count: n * n * 3)
        for y in 0..<n { for x in 0..<n {
            let dx = Float(x) - c, dy = Float(y) - c
            var sx = ct * dx + st * dy + sh * dy + c, sy = -st * dx + ct * dy + c
            if hflip { sx = Float(n - 1) - sx }
            if vflip { sy = Float(n - 1) - sy }
            var value: Float = 0
            let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
            if x0 >= 0, y0 >= 0, x0 < n - 1, y0 < n - 1 {
                let fx = sx - Float(x0), fy = sy - Float(y0)
                value = (src[y0 * n + x0] * (1 - fx) + src[y0 * n + x0 + 1] * fx) * (1 - fy)
                    + (src[(y0 + 1) * n + x0] * (1 - fx) + src[(y0 + 1) * n + x0 + 1] * fx) * fy
            }
            let v = UInt8(min(max(value * brightness, 0), 255))
            pixels[(y * n + x) * 3] = v; pixels[(y * n + x) * 3 + 1] = v; pixels[(y * n + x) * 3 + 2] = v
        } }
        return RGBImage(width: n, height: n, pixels: pixels)
    }

    func testAugmentedCopiesMatchAndOtherScenesDoNot() {
        let sources = (1...12).map { Self.scene(seed: UInt64($0)) }
        var thumbs = sources.map { Thumbnail(Self.augment($0)) }
        // Queries: augmented copies of sources 0…3, plus two unrelated scenes.
        let copies: [(Int, RGBImage)] = [
            (0, Self.augment(sources[0], hflip: true, degrees: 4, brightness: 1.1)),
            (1, Self.augment(sources[1], vflip: true, degrees: -5, shear: 2, brightness: 0.9)),
            (2, Self.augment(sources[2], hflip: true, vflip: true, degrees: 3, shear: -2)),
            (3, Self.augment(sources[3], degrees: -4, brightness: 1.08)),
        ]
        let queryStart = thumbs.count
        thumbs += copies.map { Thumbnail($0.1) }
        thumbs += [Thumbnail(Self.augment(Self.scene(seed: 99))), Thumbnail(Self.augment(Self.scene(seed: 100), hflip: true))]
        let index = NearDuplicateIndex(thumbnails: thumbs)
        let pool = Array(0..<queryStart)
        for (k, copy) in copies.enumerated() {
            let twin = index.bestTwin(of: queryStart + k, in: pool)!
            XCTAssertEqual(twin.index, copy.0, "copy \(k)")
            XCTAssertGreaterThanOrEqual(twin.similarity, NearDuplicateIndex.threshold, "copy \(k)")
        }
        for q in (queryStart + copies.count)..<thumbs.count {
            XCTAssertLessThan(index.bestTwin(of: q, in: pool)!.similarity, NearDuplicateIndex.threshold)
        }
        XCTAssertNil(index.bestTwin(of: 0, in: [0]), "an image is never its own twin")
    }

    func testThumbnailAveragesWholeBins() {
        // 128×128: left half black, right half white → thumbnail columns 0–31 are 0, 32–63 are 255.
        var px = [UInt8](repeating: 0, count: 128 * 128 * 3)
        for y in 0..<128 { for x in 64..<128 { for ch in 0..<3 { px[(y * 128 + x) * 3 + ch] = 255 } } }
        let t = Thumbnail(RGBImage(width: 128, height: 128, pixels: px))
        XCTAssertEqual(t.values[5 * 64 + 31], 0); XCTAssertEqual(t.values[5 * 64 + 32], 255, accuracy: 0.01)
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(ContentDigest.sha256Hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(ContentDigest.sha256Hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(ContentDigest.sha256Hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
