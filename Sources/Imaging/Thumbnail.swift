import Imaging

/// A small grey thumbnail used for near-duplicate search: luma (ITU-R 601, as PIL's "L"), area-averaged down to
/// `side`×`side`. Averaging whole source pixels is cheap and removes JPEG noise and small augmentation jitter.
public struct Thumbnail: Sendable, Equatable {
    public static let side = 64
    public let values: [Float]

    public init(values: [Float]) {
        precondition(values.count == Thumbnail.side * Thumbnail.side)
        self.values = values
    }

    public init(_ image: RGBImage) {
        let n = Thumbnail.side
        var sums = [Float](repeating: 0, count: n * n)
        var counts = [Float](repeating: 0, count: n * n)
        let w = image.width, h = image.height
        // Each source pixel falls into exactly one bin: bin = floor(x * n / w).
        var binX = [Int](repeating: 0, count: w)
        for x in 0..<w { binX[x] = x * n / max(w, 1) }
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<h {
                let by = y * n / max(h, 1)
                var i = y * w * 3
                for x in 0..<w {
                    let luma = 0.299 * Float(px[i]) + 0.587 * Float(px[i + 1]) + 0.114 * Float(px[i + 2])
                    let bin = by * n + binX[x]
                    sums[bin] += luma; counts[bin] += 1
                    i += 3
                }
            }
        }
        values = zip(sums, counts).map { $1 > 0 ? $0 / $1 : 0 }
    }
}
