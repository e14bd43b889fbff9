/// Conversions between NCHW (the model's input and the head's features) and the backbone's NHWC.
public enum Layout {
    /// dst[j][i] = src[i][j] for a rows × columns matrix: one image's CHW → HWC with rows = channels, and back
    /// with rows = pixels. Tiled so both sides stay in cache.
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        let tile = 32
        let rowTiles = (rows + tile - 1) / tile
        Parallel.forRanges(rowTiles, minPerThread: max(1, 4_096 / max(columns * tile / 16, 1))) { range in
            for t in range {
                let i0 = t * tile, i1 = min(rows, i0 + tile)
                var j0 = 0
                while j0 < columns {
                    let j1 = min(columns, j0 + tile)
                    for i in i0..<i1 { for j in j0..<j1 { dst[j * rows + i] = src[i * columns + j] } }
                    j0 = j1
                }
            }
        }
    }
}
