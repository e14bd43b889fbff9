/// A minimal VT100/xterm screen model for the pty tests: enough of CSI/ESC to follow ncurses
/// (cursor moves, erase, insert/delete, repeat, scroll region), text in cells, and sixel DCS payloads captured.
/// Sixel pixels are tracked per cell as xterm layers them: an image marks the cells it covers, and text written
/// or erased in a cell removes the pixels there.
final class ScreenEmulator {
    private(set) var cols: Int
    private(set) var rows: Int
    private var cells: [[Character]]
    /// Cell size in pixels (what the pty reports), to know which cells a sixel image covers.
    let cellWidth: Int, cellHeight: Int
    /// Cells that show sixel pixels.
    private var pixels: [[Bool]]
    private var row = 0, col = 0
    private var savedRow = 0, savedCol = 0
    private var scrollTop = 0, scrollBottom: Int
    private var lastPrinted: Character = " "
    private var pendingWrap = false
    /// Every complete sixel sequence seen (from ESC P to ESC \), with the cursor position where it started.
    private(set) var sixels: [(bytes: [UInt8], row: Int, col: Int)] = []
    private var state = State.ground
    private var params: [UInt8] = []
    private var dcs: [UInt8] = []
    private var dcsRow = 0, dcsCol = 0
    private var utf8: [UInt8] = []
    private var utf8Need = 0

    private enum State { case ground, escape, csi, osc, oscEscape, dcs, dcsEscape, charset }

    init(cols: Int, rows: Int, cellWidth: Int = 10, cellHeight: Int = 20) {
        self.cols = cols; self.rows = rows
        self.cellWidth = cellWidth; self.cellHeight = cellHeight
        cells = Array(repeating: Array(repeating: " ", count: cols), count: rows)
        pixels = Array(repeating: Array(repeating: false, count: cols), count: rows)
        scrollBottom = rows - 1
    }

    func resize(cols: Int, rows: Int) {
        var fresh = Array(repeating: Array(repeating: Character(" "), count: cols), count: rows)
        var freshPixels = Array(repeating: Array(repeating: false, count: cols), count: rows)
        for r in 0..<min(rows, self.rows) {
            for c in 0..<min(cols, self.cols) { fresh[r][c] = cells[r][c]; freshPixels[r][c] = pixels[r][c] }
        }
        cells = fresh; pixels = freshPixels; self.cols = cols; self.rows = rows
        scrollTop = 0; scrollBottom = rows - 1
        row = min(row, rows - 1); col = min(col, cols - 1)
    }

    var text: String { cells.map { String($0) }.joined(separator: "\n") }
    /// How many cells still show sixel pixels.
    var sixelCellCount: Int { pixels.reduce(0) { $0 + $1.filter { $0 }.count } }
    func line(_ r: Int) -> String { String(cells[r]) }

    func feed(_ bytes: [UInt8]) { for b in bytes { feed(b) } }

    private func feed(_ b: UInt8) {
        switch state {
        case .ground: ground(b)
        case .escape: escape(b)
        case .charset: state = .ground
        case .csi:
            if b >= 0x40 && b <= 0x7E { csi(final: b); state = .ground } else { params.append(b) }
        case .osc:
            if b == 0x07 { state = .ground } else if b == 0x1B { state = .oscEscape }
        case .oscEscape: state = b == UInt8(ascii: "\\") ? .ground : .osc
        case .dcs:
            if b == 0x1B { state = .dcsEscape } else { dcs.append(b) }
        case .dcsEscape:
            if b == UInt8(ascii: "\\") {
                sixels.append((Array([0x1B, UInt8(ascii: "P")]) + dcs + [0x1B, UInt8(ascii: "\\")], dcsRow, dcsCol))
                markSixelPixels()
                state = .ground
            } else { dcs.append(0x1B); dcs.append(b); state = .dcs }
        }
    }

    private func ground(_ b: UInt8) {
        if utf8Need > 0 {
            utf8.append(b); utf8Need -= 1
            if utf8Need == 0 { put(Character(String(decoding: utf8, as: UTF8.self))); utf8 = [] }
            return
        }
        switch b {
        case 0x1B: state = .escape
        case 0x0D: col = 0; pendingWrap = false
        case 0x0A, 0x0B, 0x0C: lineFeed()
        case 0x08: col = max(0, col - 1); pendingWrap = false
        case 0x09: col = min(cols - 1, (col / 8 + 1) * 8)
        case 0x07, 0x00, 0x0E, 0x0F: break
        case 0xC0...0xDF: utf8 = [b]; utf8Need = 1
        case 0xE0...0xEF: utf8 = [b]; utf8Need = 2
        case 0xF0...0xF7: utf8 = [b]; utf8Need = 3
        case 0x20...0x7E: put(Character(Unicode.Scalar(b)))
        default: break
        }
    }

    private func escape(_ b: UInt8) {
        state = .ground
        switch b {
        case UInt8(ascii: "["): state = .csi; params = []
        case UInt8(ascii: "]"): state = .osc
        case UInt8(ascii: "P"): state = .dcs; dcs = []; dcsRow = row; dcsCol = col
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"): state = .charset
        case UInt8(ascii: "7"): savedRow = row; savedCol = col
        case UInt8(ascii: "8"): row = savedRow; col = savedCol; pendingWrap = false
        case UInt8(ascii: "D"): lineFeed()
        case UInt8(ascii: "E"): col = 0; lineFeed()
        case UInt8(ascii: "M"):
            if row == scrollTop { scrollDown(1) } else { row = max(0, row - 1) }
        case UInt8(ascii: "c"):
            cells = Array(repeating: Array(repeating: " ", count: cols), count: rows)
            pixels = Array(repeating: Array(repeating: false, count: cols), count: rows)
            row = 0; col = 0
        default: break
        }
    }

    private func numbers() -> [Int] {
        let s = String(decoding: params.filter { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: ">") }, as: UTF8.self)
        return s.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
    }

    private func csi(final: UInt8) {
        if params.first == UInt8(ascii: "?") || params.first == UInt8(ascii: ">") { return } // modes: ignore
        let n = numbers()
        func p(_ i: Int, _ d: Int) -> Int { i < n.count && n[i] != 0 ? n[i] : d }
        pendingWrap = false
        switch final {
        case UInt8(ascii: "H"), UInt8(ascii: "f"): row = clampRow(p(0, 1) - 1); col = clampCol(p(1, 1) - 1)
        case UInt8(ascii: "A"): row = max(0, row - p(0, 1))
        case UInt8(ascii: "B"), UInt8(ascii: "e"): row = min(rows - 1, row + p(0, 1))
        case UInt8(ascii: "C"), UInt8(ascii: "a"): col = min(cols - 1, col + p(0, 1))
        case UInt8(ascii: "D"): col = max(0, col - p(0, 1))
        case UInt8(ascii: "G"), UInt8(ascii: "`"): col = clampCol(p(0, 1) - 1)
        case UInt8(ascii: "d"): row = clampRow(p(0, 1) - 1)
        case UInt8(ascii: "J"):
            switch p(0, 0) {
            case 0: eraseLine(from: col, to: cols); for r in (row + 1)..<rows { clear(r) }
            case 1: eraseLine(from: 0, to: col + 1); for r in 0..<row { clear(r) }
            default: for r in 0..<rows { clear(r) }
            }
        case UInt8(ascii: "K"):
            switch p(0, 0) {
            case 0: eraseLine(from: col, to: cols)
            case 1: eraseLine(from: 0, to: col + 1)
            default: clear(row)
            }
        case UInt8(ascii: "X"): eraseLine(from: col, to: min(cols, col + p(0, 1)))
        case UInt8(ascii: "b"): for _ in 0..<p(0, 1) { put(lastPrinted) }
        case UInt8(ascii: "@"):
            let k = min(p(0, 1), cols - col)
            cells[row].insert(contentsOf: Array(repeating: Character(" "), count: k), at: col)
            cells[row].removeLast(k)
            pixels[row].insert(contentsOf: Array(repeating: false, count: k), at: col)
            pixels[row].removeLast(k)
        case UInt8(ascii: "P"):
            let k = min(p(0, 1), cols - col)
            cells[row].removeSubrange(col..<(col + k))
            cells[row].append(contentsOf: Array(repeating: Character(" "), count: k))
            pixels[row].removeSubrange(col..<(col + k))
            pixels[row].append(contentsOf: Array(repeating: false, count: k))
        case UInt8(ascii: "L"): if row >= scrollTop && row <= scrollBottom { for _ in 0..<p(0, 1) { removeLine(at: scrollBottom); insertBlankLine(at: row) } }
        case UInt8(ascii: "M"): if row >= scrollTop && row <= scrollBottom { for _ in 0..<p(0, 1) { removeLine(at: row); insertBlankLine(at: scrollBottom) } }
        case UInt8(ascii: "S"): scrollUp(p(0, 1))
        case UInt8(ascii: "T"): scrollDown(p(0, 1))
        case UInt8(ascii: "r"):
            scrollTop = clampRow(p(0, 1) - 1); scrollBottom = clampRow(p(1, rows) - 1); row = 0; col = 0
        default: break // SGR and the rest don't change the text
        }
    }

    private func blank() -> [Character] { Array(repeating: " ", count: cols) }
    private func clear(_ r: Int) { cells[r] = blank(); pixels[r] = Array(repeating: false, count: cols) }
    private func eraseLine(from a: Int, to b: Int) { if a < b { for c in a..<b { cells[row][c] = " "; pixels[row][c] = false } } }
    private func removeLine(at r: Int) { cells.remove(at: r); pixels.remove(at: r) }
    private func insertBlankLine(at r: Int) { cells.insert(blank(), at: r); pixels.insert(Array(repeating: false, count: cols), at: r) }

    /// The cells under the sixel just completed, from its raster attributes (`"Pan;Pad;width;height`).
    private func markSixelPixels() {
        guard let q = dcs.firstIndex(of: UInt8(ascii: "q")), q + 1 < dcs.count, dcs[q + 1] == UInt8(ascii: "\"") else { return }
        let digits = dcs[(q + 2)...].prefix { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ";") }
        let n = String(decoding: digits, as: UTF8.self).split(separator: ";").compactMap { Int($0) }
        guard n.count == 4, n[2] > 0, n[3] > 0 else { return }
        let lastRow = min(rows, dcsRow + (n[3] + cellHeight - 1) / cellHeight)
        let lastCol = min(cols, dcsCol + (n[2] + cellWidth - 1) / cellWidth)
        for r in dcsRow..<max(dcsRow, lastRow) { for c in dcsCol..<max(dcsCol, lastCol) { pixels[r][c] = true } }
    }
    private func clampRow(_ r: Int) -> Int { max(0, min(rows - 1, r)) }
    private func clampCol(_ c: Int) -> Int { max(0, min(cols - 1, c)) }

    private func lineFeed() {
        pendingWrap = false
        if row == scrollBottom { scrollUp(1) } else { row = min(rows - 1, row + 1) }
    }
    private func scrollUp(_ k: Int) {
        for _ in 0..<k { removeLine(at: scrollTop); insertBlankLine(at: scrollBottom) }
    }
    private func scrollDown(_ k: Int) {
        for _ in 0..<k { removeLine(at: scrollBottom); insertBlankLine(at: scrollTop) }
    }

    private func put(_ ch: Character) {
        if pendingWrap { col = 0; lineFeed() }
        cells[row][col] = ch
        pixels[row][col] = false
        lastPrinted = ch
        if col == cols - 1 { pendingWrap = true } else { col += 1 }
    }
}
