/// How the image is shown: view mode and CAM method, boxes, window/level (a DICOM's on its stored values), zoom,
/// pan, flips and rotations. None of them changes a decision.
enum ViewActions {
    static let handlers: [Action: ActionHandler] = [
        .view: { app, _ in app.view.cycleMode(allowSideBySide: (app.layout?.image?.width ?? 0) >= 60); return [] },
        .camMethod: { app, _ in
            app.view.cycleCAMMethod()
            if app.view.mode != .sideBySide { app.view.mode = .gradcam }
            app.setMessage("CAM method: \(app.view.camMethod.title) (\(app.view.camMethod.reference))")
            return []
        },
        .invert: { app, _ in app.view.window.inverted.toggle(); return [] },
        .boxes: { app, _ in
            let hidden = app.session.labelsHidden
            app.view.boxLayers = app.view.boxLayers.next(labelsAllowed: !hidden)
            app.setMessage("boxes: " + app.view.boxLayers.description
                           + (hidden ? " (blind read: the label boxes are part of the label, and stay hidden)" : ""))
            return []
        },
        .windowNarrow: { app, _ in
            if let m = app.currentDicom { app.view.adjustDicomWindow(m, widthFactor: 1 / ImageView.steps[app.view.step].factor) }
            else { app.view.narrowWindow() }
            return []
        },
        .windowWiden: { app, _ in
            if let m = app.currentDicom { app.view.adjustDicomWindow(m, widthFactor: ImageView.steps[app.view.step].factor) }
            else { app.view.widenWindow() }
            return []
        },
        .levelDown: { app, _ in
            if let m = app.currentDicom { app.view.adjustDicomWindow(m, levelDirection: -1) } else { app.view.shiftLevel(-1) }
            return []
        },
        .levelUp: { app, _ in
            if let m = app.currentDicom { app.view.adjustDicomWindow(m, levelDirection: 1) } else { app.view.shiftLevel(1) }
            return []
        },
        .step: { app, _ in
            app.view.cycleStep()
            app.setMessage("window/level step: \(app.view.stepName)")
            return []
        },
        .preset: preset,
        .zoomIn: { app, _ in app.view.zoomIn(); return [] },
        .zoomOut: { app, _ in app.view.zoomOut(); return [] },
        .fit: { app, _ in app.view.fit(); return [] },
        .panLeft: { app, _ in pan(app, dx: -1, dy: 0) },
        .panRight: { app, _ in pan(app, dx: 1, dy: 0) },
        .panUp: { app, _ in pan(app, dx: 0, dy: -1) },
        .panDown: { app, _ in pan(app, dx: 0, dy: 1) },
        .flipHorizontal: { app, _ in app.view.flipHorizontally(); return [] },
        .flipVertical: { app, _ in app.view.flipVertically(); return [] },
        .rotateRight: { app, _ in app.view.rotate(clockwise: true); return [] },
        .rotateLeft: { app, _ in app.view.rotate(clockwise: false); return [] },
        .resetView: { app, _ in
            app.view.reset()
            app.setMessage("view reset")
            return []
        },
    ]

    /// A DICOM steps through its own presets (the file's windows, then the standard ones); another image through
    /// presets computed from its histogram, again for each case while one is on.
    private static func preset(_ app: ReviewApp, _ key: Key) -> Reaction {
        if let m = app.currentDicom {
            app.setMessage("window: \(app.view.nextDicomPreset(m))")
            return []
        }
        app.view.preset = (app.view.preset ?? .full).next
        app.applyPreset()
        app.setMessage("window: \(app.view.preset?.title ?? "") (from this image's histogram)")
        return []
    }

    private static func pan(_ app: ReviewApp, dx: Double, dy: Double) -> Reaction {
        if !app.view.pan(dx: dx, dy: dy) { app.setMessage("zoom in (+) first: the whole image is shown") }
        return []
    }
}
