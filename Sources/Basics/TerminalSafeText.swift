/// Text for a terminal. The one sanitiser every module uses (it lives in Basics because every module's messages reach a
/// terminal: image errors name files): control characters (C0 such as ESC and BEL, DEL, C1 such as CSI), the line and paragraph separators
/// U+2028/U+2029 and the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) from file
/// names, class names or notes are shown as `?`, so a crafted name can neither move the cursor, recolour the
/// screen, nor reorder what is displayed around it.
public enum TerminalSafeText {
    /// The character shown in place of each neutralised scalar.
    public static let replacement: Unicode.Scalar = "?"

    /// `keepingNewlines`: multi-line reports (audit, evaluate) keep their line breaks (`\n`); everything else,
    /// including `\r` and tabs, is replaced.
    public static func clean(_ text: String, keepingNewlines: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if (keepingNewlines && scalar == "\n") || !isUnsafe(scalar.value) {
                out.append(scalar)
            } else {
                out.append(replacement)
            }
        }
        return String(out)
    }

    /// True for a scalar that `clean` replaces.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool { isUnsafe(scalar.value) }

    static func isUnsafe(_ v: UInt32) -> Bool {
        v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v)
            // Line separators and bidi controls can also scramble the display.
            || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }
}
