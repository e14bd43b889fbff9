/// A rectangle of character cells.
public struct Rect: Equatable, Sendable {
    public var row: Int, col: Int, width: Int, height: Int
    public init(row: Int, col: Int, width: Int, height: Int) {
        self.row = row; self.col = col; self.width = max(0, width); self.height = max(0, height)
    }
    public var bottom: Int { row + height }
    public var right: Int { col + width }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
}

/// Where each panel goes for a terminal size. Fully usable at 80×24; below that the image goes first,
/// then the matrix (it is still reachable with `m`), and the header, bars and status line stay.
public struct ScreenLayout: Equatable, Sendable {
    public var cols: Int
    public var rows: Int
    public var header: Rect
    /// The image pane (nil when the terminal is too small for it: `imageTooSmall`).
    public var image: Rect?
    /// The case list beside the image, when the terminal is wide enough for both (≥ 150 columns).
    public var caseList: Rect?
    public var imageTooSmall: Bool
    public var bars: Rect?
    /// The matrix, when there is room for it beside the bars.
    public var matrix: Rect?
    /// Where the matrix goes when it is focused with `m` and there is no room for both.
    public var matrixFocused: Rect?
    public var status: Rect
    /// Below this, only a "terminal too small" line is drawn.
    public var tooSmall: Bool
    /// Whether the bars get a title row.
    public var barsTitled = false

    public static let minimumCols = 30
    /// From this width on, the case list stands beside the image.
    public static let caseListCols = 150
    public static let minimumRows = 6

    public init(cols: Int, rows: Int, classCount: Int, wantsImage: Bool, unlabelledRow: Bool = false) {
        self.cols = cols; self.rows = rows
        tooSmall = cols < ScreenLayout.minimumCols || rows < ScreenLayout.minimumRows
        let headerRows = rows >= 10 ? 2 : 1
        let statusRows = rows >= 34 ? 2 : 1
        header = Rect(row: 0, col: 0, width: cols, height: headerRows)
        status = Rect(row: rows - statusRows, col: 0, width: cols, height: statusRows)
        image = nil; caseList = nil; bars = nil; matrix = nil; matrixFocused = nil
        imageTooSmall = false
        if tooSmall { return }

        let top = headerRows
        let middle = rows - headerRows - statusRows
        let barsNeed = classCount              // one row per class
        // Column header + classes (+ the unlabelled row); a title row when there is room.
        let matrixNeed = classCount + 1 + (unlabelledRow ? 1 : 0)
        // The side column: wide enough for "0 Transverse Displaced ██████ 100%" and a 10-column matrix.
        let imageWanted = wantsImage
        var sideWidth = cols
        if imageWanted {
            sideWidth = min(max(36, cols * 2 / 5), 52)
            let imageWidth = cols - sideWidth - 1
            if imageWidth >= 24 && middle >= 10 {
                image = Rect(row: top, col: 0, width: imageWidth, height: middle)
                if cols >= ScreenLayout.caseListCols {
                    let listWidth = 30
                    caseList = Rect(row: top, col: 0, width: listWidth, height: middle)
                    image = Rect(row: top, col: listWidth + 1, width: imageWidth - listWidth - 1, height: middle)
                }
            } else {
                sideWidth = cols
                imageTooSmall = true
            }
        }
        let sideCol = cols - sideWidth
        let titled = middle >= barsNeed + 1 + matrixNeed + 2 // room for titles and a gap
        var row = top
        barsTitled = titled
        let barsHeight = min(middle, barsNeed + (titled ? 1 : 0))
        bars = Rect(row: row, col: sideCol, width: sideWidth, height: barsHeight)
        row += barsHeight + (titled ? 1 : 0)
        let left = top + middle - row
        if left >= matrixNeed {
            matrix = Rect(row: row, col: sideCol, width: sideWidth, height: left)
        }
        matrixFocused = matrix ?? Rect(row: top, col: sideCol, width: sideWidth, height: middle)
        if imageTooSmall && image == nil {
            // Keep the marker visible: the bars area starts one row lower.
            barsTitled = false
            bars = Rect(row: top + 1, col: sideCol, width: sideWidth, height: min(barsNeed, max(0, middle - 1)))
            if let m = matrix, m.row <= top + barsNeed { matrix = nil }
            matrixFocused = Rect(row: top + 1, col: sideCol, width: sideWidth, height: max(0, middle - 1))
        }
    }

}
