/// The panels over or beside the image (filter, confusion matrix, help), the theme, repainting and quitting.
enum PanelActions {
    static let handlers: [Action: ActionHandler] = [
        .quit: { _, _ in .quit },
        .filter: filter,
        .clearFilter: { app, _ in
            if app.session.filter != .all { app.session.setFilter(.all); app.setMessage("filter cleared") }
            return []
        },
        .matrix: { app, _ in app.matrixPanel.focused = true; return .imageCovered },
        .matrixLabels: matrixLabels,
        .matrixSeen: { app, _ in
            app.session.matrixIncludesSeen.toggle()
            app.setMessage(app.session.matrixIncludesSeen ? "matrix: all cases, seen in training included"
                                                          : "matrix: held-out cases only")
            return []
        },
        .theme: { app, _ in
            app.config.paletteIndex = (app.config.paletteIndex + 1) % app.config.palettes.count
            app.setMessage("theme: \(app.palette.name)")
            return .newColours
        },
        .help: { app, _ in app.modal = HelpOverlay(keys: app.config.keys); return [] },
        .repaint: { _, _ in .clearScreen },
    ]

    /// The filter menu; choosing the likely-label-error ranking says how many cases it ranked, and how many are
    /// still running.
    private static func filter(_ app: ReviewApp, _ key: Key) -> Reaction {
        let session = app.session
        app.modal = FilterMenu(classes: session.classes, current: session.filter, labelsHidden: session.labelsHidden,
                               team: session.team.readers.count >= 2) { [unowned app] f in
            app.session.setFilter(f)
            if app.session.isEmpty { app.setMessage("no cases match — / to change the filter", error: true) }
            else if f == .likelyLabelErrors {
                let p = app.predictions.progress
                app.setMessage("ranked \(app.session.visible.count) held-out labelled cases"
                               + (p.done < p.total ? " (\(p.total - p.done) still running: / again to re-rank)" : ""))
            }
        }
        return []
    }

    /// The matrix's rows: the dataset's labels or the reviewed ones (never during a blind read).
    private static func matrixLabels(_ app: ReviewApp, _ key: Key) -> Reaction {
        let session = app.session
        guard !session.labelsHidden else {
            app.setMessage("blind read: the matrix shows your own labels only", error: true)
            return []
        }
        session.matrixLabels = session.matrixLabels == .dataset ? .reviewed : .dataset
        session.refreshFilter()
        app.setMessage("matrix rows: \(session.matrixLabels == .dataset ? "dataset labels" : session.team.readers.count >= 2 ? "the team's labels (agreed or adjudicated)" : "reviewed labels")")
        return []
    }
}
