import Imaging

/// The colours of the UI roles, resolved from a theme. `monochrome` (NO_COLOR) draws with attributes only.
public struct Palette: Sendable {
    public var name: String
    public var background: RGB
    public var surface: RGB       // header and status bars
    public var text: RGB
    public var muted: RGB
    public var accent: RGB        // titles, focus
    public var border: RGB
    public var truth: RGB         // the ground-truth label
    public var prediction: RGB    // the model's prediction
    public var agree: RGB
    public var disagree: RGB
    public var flagged: RGB
    public var relabelled: RGB
    public var barTrack: RGB
    public var selection: RGB
    public var colormap: Colormap
    public var monochrome: Bool = false
    /// Confidence bars of classes that are neither the truth nor the prediction.
    public var bar: RGB? = nil
    /// Matrix cells: correct, wrong, the critical error pairs (Comminuted→Transverse Displaced,
    /// Transverse Displaced→Healthy), and the cursor. Nil: derived from agree/disagree/selection.
    public var matrixDiagonal: RGB? = nil
    public var matrixOffDiagonal: RGB? = nil
    public var matrixCritical: RGB? = nil
    public var matrixCursor: RGB? = nil

    public var base: Style { Style(fg: text, bg: background) }
    public func style(_ fg: RGB, bold: Bool = false, bg: RGB? = nil) -> Style {
        var s = Style(fg: fg, bg: bg ?? background, bold: bold)
        // Without colours, bars and highlighted rows are shown in reverse video.
        if monochrome, let bg, bg == surface || bg == selection { s.reverse = true }
        if monochrome && fg == muted && !s.reverse { s.dim = true }
        return s
    }

    /// Radiology reading rooms are dark: near-black background, soft grey text, few saturated accents.
    public static let dark = Palette(
        name: "dark", background: RGB(12, 14, 17), surface: RGB(28, 32, 38), text: RGB(208, 212, 218),
        muted: RGB(118, 126, 138), accent: RGB(98, 178, 232), border: RGB(54, 60, 70),
        truth: RGB(86, 196, 140), prediction: RGB(240, 178, 72), agree: RGB(86, 196, 140),
        disagree: RGB(236, 96, 88), flagged: RGB(238, 150, 60), relabelled: RGB(176, 132, 236),
        barTrack: RGB(36, 40, 48), selection: RGB(46, 72, 104), colormap: .jet)

    public static let light = Palette(
        name: "light", background: RGB(246, 246, 242), surface: RGB(226, 228, 230), text: RGB(30, 34, 40),
        muted: RGB(110, 116, 124), accent: RGB(20, 100, 180), border: RGB(180, 184, 190),
        truth: RGB(20, 130, 70), prediction: RGB(190, 110, 0), agree: RGB(20, 130, 70),
        disagree: RGB(200, 40, 40), flagged: RGB(200, 100, 0), relabelled: RGB(120, 60, 190),
        barTrack: RGB(214, 216, 220), selection: RGB(190, 210, 240), colormap: .jet)

    public static let highContrast = Palette(
        name: "high-contrast", background: RGB(0, 0, 0), surface: RGB(0, 0, 0), text: RGB(255, 255, 255),
        muted: RGB(200, 200, 200), accent: RGB(0, 255, 255), border: RGB(255, 255, 255),
        truth: RGB(0, 255, 0), prediction: RGB(255, 255, 0), agree: RGB(0, 255, 0),
        disagree: RGB(255, 0, 0), flagged: RGB(255, 160, 0), relabelled: RGB(255, 0, 255),
        barTrack: RGB(60, 60, 60), selection: RGB(0, 0, 255), colormap: .viridis)

    public static let builtIn: [Palette] = [.dark, .light, .highContrast]

    public static func builtIn(named name: String) -> Palette? {
        builtIn.first { $0.name == name.lowercased() }
    }
}
