/// Text for a terminal: control characters other than newline (ESC, BEL, C1 controls …) from file names or
/// class names are shown as U+FFFD, so a crafted file name cannot move the cursor or recolour the screen.
public enum TerminalSafeText {
    public static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0x0A || (v >= 0x20 && v != 0x7F && !(0x80...0x9F).contains(v)) { out.append(scalar) }
            else { out.append("\u{FFFD}") }
        }
        return String(out)
    }
}
