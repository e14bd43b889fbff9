import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every raw escape sequence fracview writes or parses outside ncurses goes through these helpers (btop style),
/// so no escape strings are scattered through the code: the review screen's, and the commands' progress bar.
public enum Escape {
    /// Cursor position, 0-based row and column.
    public static func moveTo(row: Int, col: Int) -> String { "\u{1B}[\(row + 1);\(col + 1)H" }
    /// Synchronized output (mode 2026): the terminal paints everything between begin and end at once.
    public static let syncBegin = "\u{1B}[?2026h"
    public static let syncEnd = "\u{1B}[?2026l"
    /// Bracketed paste (mode 2004): the terminal wraps pasted text in `ESC [ 200 ~` … `ESC [ 201 ~`.
    public static let bracketedPasteOn = "\u{1B}[?2004h"
    public static let bracketedPasteOff = "\u{1B}[?2004l"
    public static let saveCursor = "\u{1B}7"
    public static let restoreCursor = "\u{1B}8"
    /// Primary device attributes (DA1); a `4` among the reply's parameters means sixel.
    public static let deviceAttributes = "\u{1B}[c"
    /// Text area cell size in pixels; replies `ESC [ 6 ; height ; width t`.
    public static let cellSizeQuery = "\u{1B}[16t"
    /// How the two replies start: DA1's `ESC [ ?` and the cell size's `ESC [ 6 ;`.
    public static let deviceAttributesReplyStart = "\u{1B}[?"
    public static let cellSizeReplyStart = "\u{1B}[6;"
    /// Back to the line's start and clear it: a progress line redrawn in place.
    public static let rewriteLine = "\r\u{1B}[K"

    /// Writes all bytes to a file descriptor, retrying on short writes.
    public static func write(_ string: String, fd: Int32 = STDOUT_FILENO) {
        write(Array(string.utf8), fd: fd)
    }

    public static func write(_ bytes: [UInt8], fd: Int32 = STDOUT_FILENO) {
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return
                }
                offset += n
            }
        }
    }
}
