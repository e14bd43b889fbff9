import Basics
import CTerminal
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the image pane is drawn.
public enum GraphicsMode: String, CaseIterable, Sendable {
    /// Inline DEC sixel pixels, written to the tty after ncurses' refresh.
    case sixel
    /// Unicode upper half blocks (▀) with a foreground and a background colour: 2 pixels per cell.
    case blocks
    /// No image at all: text only.
    case none
}

/// The size of one character cell in pixels.
public struct CellSize: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    /// Used when the terminal reports nothing usable (a common 10×20 cell).
    public static let fallback = CellSize(width: 10, height: 20)
}

/// What the terminal can do, probed once before ncurses starts (the replies would otherwise arrive as keystrokes).
public struct TerminalCapabilities: Sendable {
    public var graphics: GraphicsMode
    public var cellSize: CellSize
    /// Where the cell size came from: "ioctl", "CSI 16 t" or "default".
    public var cellSizeSource: String

    /// Probes the terminal on stdin/stdout. `requested` (from --graphics) overrides detection; inside tmux the
    /// text fallback is used because tmux before 3.4 drops sixel.
    public static func probe(requested: GraphicsMode?, environment: [String: String],
                             timeoutMs: Int32 = 250) -> TerminalCapabilities {
        var mode: GraphicsMode
        var reply = ""
        let interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
        if let requested {
            mode = requested
        } else if environment["TMUX"] != nil || !interactive {
            mode = .blocks
        } else {
            reply = query(Escape.deviceAttributes, terminator: UInt8(ascii: "c"), timeoutMs: timeoutMs)
            mode = replyAdvertisesSixel(reply) ? .sixel : .blocks
        }
        var cell = CellSize.fallback
        var source = "default"
        var ws = cterminal_winsize()
        if cterminal_get_winsize(STDOUT_FILENO, &ws) == 0,
           let size = plausibleCellSize(cols: Int(ws.cols), rows: Int(ws.rows),
                                        xpixel: Int(ws.xpixel), ypixel: Int(ws.ypixel)) {
            cell = size; source = "ioctl"
        } else if mode == .sixel && interactive {
            // DA1 after CSI 16 t acts as a sentinel: every terminal answers it, so we never wait the full timeout.
            let r = query(Escape.cellSizeQuery + Escape.deviceAttributes, terminator: UInt8(ascii: "c"),
                          timeoutMs: timeoutMs)
            if let size = parseCellSizeReply(r) { cell = size; source = "CSI 16 t" }
        }
        return TerminalCapabilities(graphics: mode, cellSize: cell, cellSizeSource: source)
    }

    /// TIOCGWINSZ pixels are trusted only when plausible (xpixel ≥ 2·cols, ypixel ≥ 4·rows), as timg does.
    public static func plausibleCellSize(cols: Int, rows: Int, xpixel: Int, ypixel: Int) -> CellSize? {
        guard cols > 0, rows > 0, xpixel >= 2 * cols, ypixel >= 4 * rows else { return nil }
        return CellSize(width: xpixel / cols, height: ypixel / rows)
    }

    /// True when a DA1 reply (`ESC [ ? 62 ; 4 ; 22 c`) lists parameter 4.
    public static func replyAdvertisesSixel(_ reply: String) -> Bool {
        guard let start = reply.range(of: Escape.deviceAttributesReplyStart) else { return false }
        let tail = reply[start.upperBound...]
        guard let end = tail.firstIndex(of: "c") else { return false }
        return tail[..<end].split(separator: ";").contains { $0 == "4" }
    }

    /// Parses `ESC [ 6 ; height ; width t`.
    public static func parseCellSizeReply(_ reply: String) -> CellSize? {
        guard let start = reply.range(of: Escape.cellSizeReplyStart) else { return nil }
        let tail = reply[start.upperBound...]
        guard let end = tail.firstIndex(of: "t") else { return nil }
        let parts = tail[..<end].split(separator: ";").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 4, parts[1] >= 2, parts[0] < 500, parts[1] < 500 else { return nil }
        return CellSize(width: parts[1], height: parts[0])
    }

    private static func query(_ request: String, terminator: UInt8, timeoutMs: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = request.withCString { q in
            cterminal_query(STDIN_FILENO, STDOUT_FILENO, q, CChar(bitPattern: terminator), &buffer, 255, timeoutMs)
        }
        guard n > 0 else { return "" }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
