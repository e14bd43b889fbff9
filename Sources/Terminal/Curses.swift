import Basics
import CNcursesw
import CTerminal
import Foundation

/// An RGB colour from a theme.
public struct RGB: Hashable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    /// Parses "#rrggbb".
    public init?(hex: String) {
        var s = hex.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("#") { s.removeFirst() }
        guard s.count == 6, let v = UInt32(s, radix: 16) else { return nil }
        self.init(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
    }
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        func m(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(a) * (1 - t) + Double(b) * t).rounded()))) }
        return RGB(m(r, other.r), m(g, other.g), m(b, other.b))
    }
}

/// A cell style: colours and attributes.
public struct Style: Hashable, Sendable {
    public var fg: RGB
    public var bg: RGB
    public var bold = false
    public var reverse = false
    public var underline = false
    public var dim = false
    public init(fg: RGB, bg: RGB, bold: Bool = false, reverse: Bool = false, underline: Bool = false, dim: Bool = false) {
        self.fg = fg; self.bg = bg; self.bold = bold; self.reverse = reverse; self.underline = underline; self.dim = dim
    }
}

/// How many colours the terminal can show through ncurses.
public enum ColorDepth: Sendable {
    case none        // NO_COLOR or a monochrome terminal: attributes only
    case basic8      // the 8 ANSI colours
    case palette256  // xterm 256-colour palette (cube + grey ramp)
    case direct      // COLORS ≥ 2^24: colour numbers are 0xRRGGBB
}

private let xterm256Cache = Locked<[RGB: Int32]>([:])

/// A thin layer over ncursesw: wide-character output, colour pairs allocated on demand
/// (extended pairs, so truecolor or 256-colour images fit), and key input.
public final class Curses {
    public private(set) var depth: ColorDepth = .none
    private var pairs: [Int64: Int32] = [:]
    private var nextPair: Int32 = 1
    private var maxPairs: Int32 = 0
    public private(set) var started = false

    public init() {}

    /// NO_COLOR: text uses the terminal's own colours and attributes only; the image keeps its colours
    /// (it is content, not decoration).
    public var uiMonochrome = false

    /// Starts ncurses. `monochrome` (NO_COLOR) keeps attributes but no UI colours.
    public func start(monochrome: Bool) {
        uiMonochrome = monochrome
        Curses.ensureUTF8Locale()
        // Keys are read and parsed by TerminalInput, not by ncurses (whose keypad mode turns unknown sequences
        // into single keys); so ncurses leaves SIGWINCH to it and never switches the cursor-key mode.
        TerminalInput.installResizeHandler()
        initscr()
        started = true
        cbreak(); noecho(); nonl()
        intrflush(stdscr, false)
        curs_set(0)
        Escape.write(Escape.bracketedPasteOn)
        if has_colors() {
            start_color()
            let n = COLORS
            maxPairs = COLOR_PAIRS
            if n >= 1 << 24 { depth = .direct } else if n >= 256 { depth = .palette256 } else if n >= 8 { depth = .basic8 }
        }
    }

    public func stop() {
        guard started else { return }
        Escape.write(Escape.bracketedPasteOff)
        endwin()
        started = false
    }

    public var rows: Int { Int(LINES) }
    public var cols: Int { Int(COLS) }

    /// ncurses needs a UTF-8 locale for ▀ and box drawing; fall back to C.UTF-8 if the environment's isn't.
    static func ensureUTF8Locale() {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(Int32(CODESET)))
        if codeset.uppercased().replacingOccurrences(of: "-", with: "") != "UTF8" {
            if setlocale(LC_ALL, "C.UTF-8") == nil { setlocale(LC_ALL, "en_US.UTF-8") }
        }
    }

    // MARK: colours

    /// The terminal colour number closest to `c`.
    func colorNumber(_ c: RGB) -> Int32 {
        switch depth {
        case .direct: return Int32(c.r) << 16 | Int32(c.g) << 8 | Int32(c.b)
        case .palette256: return Curses.xterm256(c)
        case .basic8: return Curses.ansi8(c)
        case .none: return -1
        }
    }

    /// The xterm-256 index nearest to an RGB colour (6×6×6 cube or the 24-step grey ramp), by a weighted
    /// distance over all 240 candidates: per-channel rounding turns dark tints (a dim red matrix cell) purple.
    public static func xterm256(_ c: RGB) -> Int32 {
        if let hit = xterm256Cache.withLock({ $0[c] }) { return hit }
        let levels: [Int] = [0, 95, 135, 175, 215, 255]
        var best: Int32 = 16, bestErr = Int.max
        func consider(_ index: Int32, _ r: Int, _ g: Int, _ b: Int) {
            let dr = r - Int(c.r), dg = g - Int(c.g), db = b - Int(c.b)
            let err = 2 * dr * dr + 4 * dg * dg + 3 * db * db
            if err < bestErr { bestErr = err; best = index }
        }
        for ri in 0..<6 { for gi in 0..<6 { for bi in 0..<6 {
            consider(Int32(16 + 36 * ri + 6 * gi + bi), levels[ri], levels[gi], levels[bi])
        } } }
        for i in 0..<24 { let v = 8 + 10 * i; consider(Int32(232 + i), v, v, v) }
        xterm256Cache.withLock { $0[c] = best }
        return best
    }

    static func ansi8(_ c: RGB) -> Int32 {
        let t: UInt8 = 100
        let bright = max(c.r, c.g, c.b)
        if bright < 60 { return COLOR_BLACK.int32 }
        let r = c.r > t ? 1 : 0, g = c.g > t ? 1 : 0, b = c.b > t ? 1 : 0
        if r + g + b == 0 { return bright > 40 ? COLOR_WHITE.int32 : COLOR_BLACK.int32 }
        return Int32(r | g << 1 | b << 2)
    }


    /// The colour pair for fg/bg, allocated on first use. When the pairs run out (large images in 256 colours),
    /// allocation restarts; cells drawn earlier in the frame keep their colours because ncurses repaints from pairs only
    /// at refresh, so callers clear the cache once per frame via `beginFrame()`.
    func pair(fg: RGB, bg: RGB) -> Int32 {
        guard depth != .none else { return 0 }
        let f = colorNumber(fg), b = colorNumber(bg)
        let key = Int64(f) << 32 | Int64(UInt32(bitPattern: b))
        if let p = pairs[key] { return p }
        if nextPair >= maxPairs - 1 { return 0 }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, f, b)
        pairs[key] = p
        return p
    }

    /// Called at the start of each frame: when the pairs are nearly used up (a truecolor image can need one per
    /// cell), start over; every cell is redrawn in the frame anyway.
    public func beginFrame() {
        if maxPairs > 0 && nextPair > maxPairs * 3 / 4 { resetPairs() }
    }

    /// Number of colour pairs in use (for diagnostics and tests).
    public var pairsInUse: Int { Int(nextPair - 1) }

    // MARK: drawing

    private func attributes(_ style: Style) -> attr_t {
        var a: attr_t = 0
        if style.bold { a |= attr_t(NCURSES_BITS(1, 13)) }       // A_BOLD
        if style.reverse { a |= attr_t(NCURSES_BITS(1, 10)) } // A_REVERSE
        if style.underline { a |= attr_t(NCURSES_BITS(1, 9)) }   // A_UNDERLINE
        if style.dim { a |= attr_t(NCURSES_BITS(1, 12)) }        // A_DIM
        return a
    }

    /// Draws `text` at (row, col), clipped to `maxWidth` columns; returns the number of columns used.
    @discardableResult
    public func put(_ row: Int, _ col: Int, _ text: String, _ style: Style, maxWidth: Int = Int.max) -> Int {
        guard row >= 0, row < rows, col >= 0, col < cols else { return 0 }
        let limit = min(maxWidth, cols - col)
        guard limit > 0 else { return 0 }
        var pairNumber = uiMonochrome ? 0 : pair(fg: style.fg, bg: style.bg)
        let attrs = attributes(style)
        let scalars = Array(text.unicodeScalars)
        let widths = scalars.map { s -> Int in let w = Int(cterminal_wcwidth(s.value)); return w <= 0 ? 1 : w }
        // Text cut short is always marked with "…" (trailing spaces are padding, not text). No scalar is wider
        // than its UTF-8 bytes, so text of at most `limit` bytes always fits.
        var room = limit
        var cut = false
        if text.utf8.count > limit && widths.reduce(0, +) > limit {
            var used = 0, fits = 0
            while fits < scalars.count && used + widths[fits] <= limit { used += widths[fits]; fits += 1 }
            if scalars[fits...].contains(where: { $0 != " " }) { cut = true; room = limit - 1 }
        }
        var used = 0
        var cell = cchar_t()
        for (i, scalar) in scalars.enumerated() {
            let width = widths[i]
            if used + width > room { break }
            let printable = cterminal_wcwidth(scalar.value) > 0
            var chars: [wchar_t] = [wchar_t(bitPattern: printable ? scalar.value : 0x3F), 0]
            setcchar(&cell, &chars, attrs, 0, &pairNumber)
            mvadd_wch(Int32(row), Int32(col + used), &cell)
            used += width
        }
        if cut && room >= 0 {
            var chars: [wchar_t] = [wchar_t(0x2026), 0]
            setcchar(&cell, &chars, attrs, 0, &pairNumber)
            mvadd_wch(Int32(row), Int32(col + used), &cell)
            used += 1
        }
        return used
    }

    /// Fills a rectangle with a character.
    public func fill(_ row: Int, _ col: Int, width: Int, height: Int, _ style: Style, char: Character = " ") {
        guard width > 0, height > 0 else { return }
        let line = String(repeating: char, count: width)
        for r in row..<(row + height) { put(r, col, line, style, maxWidth: width) }
    }

    /// One half-block cell: `top` colour in the upper half (foreground of ▀), `bottom` in the lower half.
    public func halfBlock(_ row: Int, _ col: Int, top: RGB, bottom: RGB) {
        guard row >= 0, row < rows, col >= 0, col < cols else { return }
        var pairNumber = pair(fg: top, bg: bottom)
        var cell = cchar_t()
        var chars: [wchar_t] = [0x2580, 0]
        setcchar(&cell, &chars, 0, 0, &pairNumber)
        mvadd_wch(Int32(row), Int32(col), &cell)
    }

    /// Sets the screen's default background (so cleared cells get the theme background).
    public func setBackground(_ style: Style) {
        var pairNumber = uiMonochrome ? 0 : pair(fg: style.fg, bg: style.bg)
        var cell = cchar_t()
        var chars: [wchar_t] = [0x20, 0]
        setcchar(&cell, &chars, 0, 0, &pairNumber)
        bkgrndset(&cell)
    }

    public func erase() { CNcursesw.erase() }

    /// Forces ncurses to repaint these lines in full on the next refresh (erases sixel pixels there).
    public func invalidateLines(_ row: Int, _ count: Int) {
        let first = max(0, row), last = min(rows, row + count)
        guard last > first else { return }
        wredrawln(stdscr, Int32(first), Int32(last - first))
    }

    public func clearAll() { clearok(stdscr, true) }

    public func refresh() {
        wnoutrefresh(stdscr)
        doupdate()
    }

    /// Resets the colour-pair allocations (when the theme changes).
    public func resetPairs() {
        pairs.removeAll()
        nextPair = 1
    }

    /// Tells ncurses the terminal's new size (after SIGWINCH, which TerminalInput catches).
    public func resize(rows: Int, cols: Int) {
        guard rows > 0, cols > 0 else { return }
        resizeterm(Int32(rows), Int32(cols))
    }
}

private extension Int32 { var int32: Int32 { self } }
private extension Int16 { var int32: Int32 { Int32(self) } }

func NCURSES_BITS(_ mask: UInt32, _ shift: UInt32) -> UInt32 { mask << (shift + 8) }
