import Basics
import Foundation

/// The localiser's output on a G×G grid over the image (training/localiser.py): per cell the probability that a
/// fracture box is centred there, the centre's offset inside the cell (0…1) and the log of the box's width and
/// height as fractions of the image. A fold ensemble averages its members' maps (`mean`), then reads boxes.
public struct LocaliserMaps: Sendable, Equatable {
    public let width: Int, height: Int
    public var centre: [Float]
    public var offsetX: [Float], offsetY: [Float]
    public var logWidth: [Float], logHeight: [Float]

    /// From the head's raw output, cell-major [hw, 5] (channels: centre logit, offset x and y logits, log w, log h).
    public init(width: Int, height: Int, raw: [Float]) {
        precondition(raw.count == width * height * 5)
        self.width = width; self.height = height
        let hw = width * height
        func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }
        centre = (0..<hw).map { sigmoid(raw[$0 * 5]) }
        offsetX = (0..<hw).map { sigmoid(raw[$0 * 5 + 1]) }
        offsetY = (0..<hw).map { sigmoid(raw[$0 * 5 + 2]) }
        logWidth = (0..<hw).map { raw[$0 * 5 + 3] }
        logHeight = (0..<hw).map { raw[$0 * 5 + 4] }
    }

    /// The members' mean: centre probability, offsets and log-sizes each averaged (`mean_maps` in PyTorch).
    /// nil for no maps or maps of different grids.
    public static func mean(_ maps: [LocaliserMaps]) -> LocaliserMaps? {
        guard var m = maps.first, maps.allSatisfy({ $0.width == m.width && $0.height == m.height }) else { return nil }
        guard maps.count > 1 else { return m }
        let k = Float(maps.count)
        func avg(_ field: KeyPath<LocaliserMaps, [Float]>) -> [Float] {
            var v = [Float](repeating: 0, count: m.centre.count)
            for map in maps { for i in v.indices { v[i] += map[keyPath: field][i] } }
            return v.map { $0 / k }
        }
        m.centre = avg(\.centre); m.offsetX = avg(\.offsetX); m.offsetY = avg(\.offsetY)
        m.logWidth = avg(\.logWidth); m.logHeight = avg(\.logHeight)
        return m
    }

    /// The most boxes reported, and the score a box needs (docs/engine.md, "Localiser members").
    public static let maxBoxes = 5
    public static let minScore: Float = 0.05

    /// Up to `limit` boxes, best first: each local maximum of the centre map (a cell equal to the maximum of its
    /// 3×3 neighbourhood) scoring above `minScore`, with its offset and size, clipped to the image. Empty when
    /// nothing scores high enough: "no fracture found". Ties keep row-major order.
    public func detections(limit: Int = LocaliserMaps.maxBoxes, minScore: Float = LocaliserMaps.minScore) -> [Detection] {
        var peaks: [(score: Float, index: Int)] = []
        for i in 0..<height {
            for j in 0..<width {
                let v = centre[i * width + j]
                guard v.isFinite, v > minScore else { continue }
                var isPeak = true
                for di in -1...1 { for dj in -1...1 {
                    let y = i + di, x = j + dj
                    if y >= 0, y < height, x >= 0, x < width, centre[y * width + x] > v { isPeak = false }
                } }
                if isPeak { peaks.append((v, i * width + j)) }
            }
        }
        peaks.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        return peaks.prefix(limit).compactMap { peak in
            let i = peak.index / width, j = peak.index % width
            let cx = (Double(j) + Double(offsetX[peak.index])) / Double(width)
            let cy = (Double(i) + Double(offsetY[peak.index])) / Double(height)
            let w = exp(Double(logWidth[peak.index])), h = exp(Double(logHeight[peak.index]))
            let box = ImageBox(x0: max(cx - w / 2, 0), y0: max(cy - h / 2, 0), x1: min(cx + w / 2, 1), y1: min(cy + h / 2, 1))
            // A size that overflowed or a box clipped to nothing is no box (never drawn, never scored).
            return box.isUsable ? Detection(box: box, score: peak.score) : nil
        }
    }
}
