import Foundation

/// The reviewer's decisions and what leaves the screen with them (the CSV, the PACS). Each decision is saved at
/// once (`ReviewApp.decide` shows why when it is not).
enum DecisionActions {
    static let handlers: [Action: ActionHandler] = [
        .accept: { app, _ in app.decide { try app.session.decide(.accepted) }; return [] },
        .flag: { app, _ in app.decide { try app.session.decide(.flagged) }; return [] },
        .relabel: relabel,
        .classMenu: classMenu,
        .undo: undo,
        .note: note,
        .autoAdvance: { app, _ in
            app.session.autoAdvance.toggle()
            app.setMessage("auto-advance \(app.session.autoAdvance ? "on" : "off")")
            return []
        },
        .export: { app, _ in app.export(split: app.session.split); return [] },
        .exportAll: { app, _ in app.export(split: nil); return [] },
        .sendFindings: { app, _ in app.sendFindings(); return [] },
    ]

    /// A digit relabels the case with that class.
    private static func relabel(_ app: ReviewApp, _ key: Key) -> Reaction {
        guard case .char(let ch) = key, let k = ch.wholeNumberValue else { return [] }
        guard k < app.session.classes.count else { app.setMessage("no class \(k)", error: true); return [] }
        app.decide { try app.session.decide(.relabelled, label: k) }
        return []
    }

    /// The class picker, opened on the likely-label-error filter's suggestion when there is one.
    private static func classMenu(_ app: ReviewApp, _ key: Key) -> Reaction {
        guard let index = app.session.currentIndex else { return [] }
        let session = app.session
        let suggested = session.filter == .likelyLabelErrors ? session.labelIssues[index]?.suggested : nil
        app.modal = ClassPicker(classCount: session.classes.count, prediction: session.prediction(for: index),
                                first: suggested) { [unowned app] k in
            app.decide { try app.session.decide(.relabelled, label: k) }
        }
        return []
    }

    /// Undoes this reviewer's last decision (never another reader's).
    private static func undo(_ app: ReviewApp, _ key: Key) -> Reaction {
        do {
            if let caseID = try app.session.undo() { app.setMessage("undone: \((caseID as NSString).lastPathComponent)") }
            else { app.setMessage("nothing to undo") }
        } catch { app.setMessage("undo failed: \(error)", error: true) }
        return []
    }

    /// The note editor; saving a note on an undecided case flags it.
    private static func note(_ app: ReviewApp, _ key: Key) -> Reaction {
        guard let index = app.session.currentIndex else { return [] }
        app.modal = NoteEditor(initial: app.session.decision(for: index)?.note ?? "") { [unowned app] text in
            let wasDecided = app.session.decision(for: index) != nil
            do {
                try app.session.setNote(text)
                app.setMessage(wasDecided ? "note saved" : "note saved · case flagged")
            } catch { app.setMessage("could not save the note: \(error)", error: true) }
        }
        return []
    }
}
