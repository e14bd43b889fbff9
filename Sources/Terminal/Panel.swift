import Review
/// What every panel draws with.
public struct DrawContext {
    public let curses: Curses
    public let palette: Palette
    public let session: ReviewSession
    public let predictions: PredictionSource
    /// A PACS's downloads: finished, total, failed (nil for a folder).
    public var transfer: (done: Int, total: Int, failed: Int)? = nil
}

/// A region of the screen that draws itself (htop's Panel). Panels never reach into each other.
public protocol Panel {
    func draw(_ ctx: DrawContext, in rect: Rect)
}

/// A panel that takes the keyboard while it is open (help, note editor, class picker, filter menu).
public protocol ModalPanel: AnyObject {
    func draw(_ ctx: DrawContext, screen: Rect)
    func handle(_ key: Key, _ ctx: DrawContext) -> KeyOutcome
}

extension Curses {
    /// A box with a title, in box-drawing characters.
    func box(_ rect: Rect, title: String, _ palette: Palette, borderColor: RGB? = nil) {
        guard rect.width >= 4, rect.height >= 2 else { return }
        let border = palette.style(borderColor ?? palette.accent, bg: palette.surface)
        fill(rect.row, rect.col, width: rect.width, height: rect.height, palette.style(palette.text, bg: palette.surface))
        let inner = rect.width - 2
        put(rect.row, rect.col, "╭" + String(repeating: "─", count: inner) + "╮", border)
        for r in (rect.row + 1)..<(rect.bottom - 1) {
            put(r, rect.col, "│", border)
            put(r, rect.right - 1, "│", border)
        }
        put(rect.bottom - 1, rect.col, "╰" + String(repeating: "─", count: inner) + "╯", border)
        if !title.isEmpty {
            put(rect.row, rect.col + 2, " \(title) ", palette.style(palette.accent, bold: true, bg: palette.surface),
                maxWidth: inner - 2)
        }
    }

    /// Text centred in a rectangle's row.
    func centered(_ row: Int, in rect: Rect, _ text: String, _ style: Style) {
        let width = text.unicodeScalars.count
        put(row, rect.col + max(0, (rect.width - width) / 2), text, style, maxWidth: rect.width)
    }
}

/// Short class tags for tight places (the matrix rows): initials of multi-word names, else the first letters.
public func classTags(_ classes: [String], length: Int = 3) -> [String] {
    var tags: [String] = []
    for name in classes {
        let words = name.split(whereSeparator: { $0 == " " || $0 == "_" || $0 == "-" })
        var tag: String
        if words.count > 1 {
            tag = words.map { String($0.prefix(1)).uppercased() }.joined()
            tag += String(words[0].dropFirst().prefix(max(0, length - tag.count)))
        } else {
            tag = String(name.prefix(length))
        }
        tag = String(tag.prefix(length))
        var unique = tag
        var n = 1
        while tags.contains(unique) { unique = String(tag.prefix(length - 1)) + String(n); n += 1 }
        tags.append(unique)
    }
    return tags
}

/// Pads or clips to exactly `width` columns (the names we pad are plain text).
func fit(_ text: String, _ width: Int) -> String {
    guard width > 0 else { return "" }
    let scalars = Array(text.unicodeScalars)
    if scalars.count > width {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars.prefix(max(0, width - 1)))
        s.append("…")
        return String(s)
    }
    return text + String(repeating: " ", count: width - scalars.count)
}

/// Clips from the left, keeping the end (file names: the end is what tells cases apart).
func clipLeft(_ text: String, _ width: Int) -> String {
    let scalars = Array(text.unicodeScalars)
    guard scalars.count > width, width > 1 else { return text }
    var s = String.UnicodeScalarView()
    s.append("…")
    s.append(contentsOf: scalars.suffix(width - 1))
    return String(s)
}

func percent(_ p: Float) -> String {
    let v = Int((p * 100).rounded())
    return "\(v)%"
}
