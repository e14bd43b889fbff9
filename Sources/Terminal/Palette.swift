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
    /// The localiser's box on the X-ray.
    public var modelBox = RGB(0, 229, 255)

    public var base: Style { Style(fg: text, bg: background) }
    public func style(_ fg: RGB, bold: Bool = false, bg: RGB? = nil) -> Style {
        var s = Style(fg: fg, bg: bg ?? background, bold: bold)
        // Without colours, bars and highlighted rows are shown in reverse video.
        if monochrome, let bg, bg == surface || bg == selection { s.reverse = true }
        if monochrome && fg == muted && !s.reverse { s.dim = true }
        return s
    }
}
