import Basics
import Foundation
import Imaging

/// Every human-readable line the commands write goes through here, and through the one terminal-safe sanitiser:
/// file names, class names, paths and error texts come from input data and may carry escape or bidi codes.
/// JSON output (`--json`) is data and is written exactly, with JSON's own escaping.
enum Console {
    /// A line (or several, keeping their line breaks) on stdout.
    static func line(_ text: String = "", terminator: String = "\n") {
        Swift.print(TerminalSafeText.clean(text, keepingNewlines: true), terminator: terminator)
    }

    /// A line on stderr.
    static func error(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n", to: FileHandle.standardError)
    }

    /// Text on stderr as it is given (line breaks included).
    static func errorText(_ text: String) { write(text, to: FileHandle.standardError) }

    /// JSON, exactly.
    static func json(_ text: String) { Swift.print(text) }

    private static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(TerminalSafeText.clean(text, keepingNewlines: true).utf8))
    }
}
