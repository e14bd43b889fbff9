
extension Palette {
    /// The UI roles of a theme file (themes/*.yaml, see docs/store.md).
    public init(theme: Theme) {
        func c(_ role: ThemeRole) -> RGB { let t = theme[role]; return RGB(t.r, t.g, t.b) }
        self.init(name: theme.name, background: c(.background), surface: c(.statusBackground), text: c(.text),
                  muted: c(.dim), accent: c(.accent), border: c(.border), truth: c(.truth), prediction: c(.prediction),
                  agree: c(.agree), disagree: c(.disagree), flagged: c(.flagged), relabelled: c(.relabelled),
                  barTrack: c(.barBackground), selection: c(.selection), colormap: theme.colormap)
        bar = c(.bar)
        matrixDiagonal = c(.matrixDiagonal)
        matrixOffDiagonal = c(.matrixOffDiagonal)
        matrixCritical = c(.matrixCritical)
        matrixCursor = c(.matrixCursor)
        modelBox = c(.modelBox)
        monochrome = theme.monochrome
    }
}
