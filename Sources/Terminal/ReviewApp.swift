import CNcursesw
import CTerminal
import Foundation
import Imaging
import Inference
import Review

/// Everything the review screen needs, assembled by `fracview review`.
public struct ReviewAppConfiguration {
    public var capabilities: TerminalCapabilities
    public var palettes: [Palette]
    public var paletteIndex: Int
    /// NO_COLOR: attributes only.
    public var monochrome: Bool
    /// Where `e` writes the CSV.
    public var exportPath: String
    /// The key table, with the user's keys.yaml applied.
    public var keys: KeyTable
    /// Where `E` writes every split's decisions.
    public var exportAllPath: String
    /// `P`: a PACS review's sender (nil for a folder).
    public var findingsSender: FindingsSending?
    public init(capabilities: TerminalCapabilities, palettes: [Palette], paletteIndex: Int, monochrome: Bool, exportPath: String,
                exportAllPath: String? = nil, keys: KeyTable = .standard, findingsSender: FindingsSending? = nil) {
        self.capabilities = capabilities; self.palettes = palettes; self.paletteIndex = paletteIndex
        self.monochrome = monochrome; self.exportPath = exportPath; self.keys = keys; self.findingsSender = findingsSender
        self.exportAllPath = exportAllPath ?? exportPath
    }
}

nonisolated(unsafe) private var terminationRequested: sig_atomic_t = 0

/// The screen manager: owns the panels, runs the key loop, and acts on the handlers' outcomes.
public final class ReviewApp {
    private let session: ReviewSession
    private let predictions: PredictionSource
    private let images: CaseImages
    private let exporter: DecisionExporter
    /// A background send's answer, for the loop to show.
    private let sendLock = NSLock()
    private var sentMessage: (String, Bool)?
    /// Sends under way: quitting waits for them (up to `sendGrace`), so that an answer is never cut off.
    private let sends = DispatchGroup()
    private let sendGrace: TimeInterval = 30
    private var config: ReviewAppConfiguration
    private let curses = Curses()
    private let input = TerminalInput()
    private let imagePanel: ImagePanel
    private let matrixPanel = ConfusionMatrixPanel()
    private var modal: ModalPanel?
    private var view = ImageView()
    private var message: (text: String, isError: Bool, until: Date)?
    private var lastSignature = ""
    /// The case the window preset was last computed for.
    private var presetCase: Int?
    private var nextStorePoll = Date()
    private var layout: ScreenLayout?

    public init(session: ReviewSession, predictions: PredictionSource, images: CaseImages, exporter: DecisionExporter,
                configuration: ReviewAppConfiguration) {
        self.session = session; self.predictions = predictions; self.images = images; self.exporter = exporter
        self.config = configuration
        imagePanel = ImagePanel(graphics: configuration.capabilities.graphics, cellSize: configuration.capabilities.cellSize,
                                images: images)
    }

    private var palette: Palette {
        var p = config.palettes[config.paletteIndex % config.palettes.count]
        p.monochrome = config.monochrome
        return p
    }

    /// Runs until `q`. Restores the terminal on the way out, also on SIGTERM/SIGHUP.
    public func run() {
        signal(SIGTERM) { _ in terminationRequested = 1 }
        signal(SIGHUP) { _ in terminationRequested = 1 }
        curses.start(monochrome: config.monochrome || palette.monochrome)
        raw() // Ctrl-C arrives as a key, so quitting always restores the terminal
        defer {
            if sends.wait(timeout: .now() + 0.05) == .timedOut {
                setMessage("waiting for the PACS to answer …")
                draw()
                _ = sends.wait(timeout: .now() + sendGrace)
            }
            curses.stop()
            predictions.stop()
        }
        predictions.start()
        if let i = session.currentIndex { predictions.prioritize(index: i) }
        setMessage(session.counts.reviewed > 0 ? "resumed at the first unreviewed case · ? for help" : "? for help · every decision is saved at once")
        draw()
        while terminationRequested == 0 && !input.closed {
            let burst = input.next(timeoutMs: 100)
            if burst.events.isEmpty {
                if Date() >= nextStorePoll {
                    nextStorePoll = Date().addingTimeInterval(1)
                    let wasLost = session.storeState != .connected
                    session.pollStore()
                    let notices = session.takeNotices()
                    if let last = notices.last { setMessage(notices.joined(separator: " · "), error: last.contains("NOT")) }
                    if session.reloadIfChangedElsewhere() && notices.isEmpty {
                        setMessage("updated from another window of \(session.reviewer)")
                    }
                    if wasLost || session.storeState != .connected { draw() }
                }
                if signature() != lastSignature { draw() }
                continue
            }
            if handle(burst) == .quit { break }
            // A reconnection (or a settled commit) found out while handling a key.
            let notices = session.takeNotices()
            if !notices.isEmpty, message?.isError != true { setMessage(notices.joined(separator: " · "), error: notices.last!.contains("NOT")) }
            draw()
        }
    }

    // MARK: keys

    private func context() -> DrawContext {
        DrawContext(curses: curses, palette: palette, session: session, predictions: predictions,
                    transfer: images.source.transferProgress)
    }

    /// One burst of input. An event that arrived alone is handled as typed. In a burst of several (a paste
    /// without bracketed-paste mode, keys queued while a frame was drawn, line noise) only cursor keys act, and
    /// the note editor takes the text, Enter included as a space: nothing in a burst makes a decision.
    private func handle(_ burst: InputBurst) -> KeyOutcome {
        var ignored = 0, unknown: String?
        for event in burst.events {
            switch event {
            case .unknown(let what):
                unknown = what
            case .paste(let text):
                if let editor = modal as? NoteEditor { editor.insert(text) } else { ignored += text.count }
            case .key(let key):
                if burst.isAlone || key.isCursorKey {
                    if handle(key) == .quit { return .quit }
                } else if let editor = modal as? NoteEditor {
                    editor.insertFromBurst(key)
                } else {
                    ignored += 1
                }
            }
        }
        if ignored > 0 {
            setMessage("ignored \(ignored) key\(ignored == 1 ? "" : "s") that came together (a paste?): "
                       + "one key at a time · paste only into a note (n)", error: true)
        } else if let unknown {
            setMessage("ignored an unknown key sequence: \(unknown)", error: true)
        }
        return .handled
    }

    private func handle(_ key: Key) -> KeyOutcome {
        if key == .resize {
            // A font change also changes the cell size in pixels.
            var ws = cterminal_winsize()
            if cterminal_get_winsize(STDOUT_FILENO, &ws) == 0 { curses.resize(rows: Int(ws.rows), cols: Int(ws.cols)) }
            if cterminal_get_winsize(STDOUT_FILENO, &ws) == 0,
               let size = TerminalCapabilities.plausibleCellSize(cols: Int(ws.cols), rows: Int(ws.rows),
                                                                 xpixel: Int(ws.xpixel), ypixel: Int(ws.ypixel)) {
                imagePanel.cellSize = size
            }
            imagePanel.invalidate()
            curses.clearAll()
            return .redraw
        }
        if let modal {
            let outcome = modal.handle(key, context())
            if outcome == .close { self.modal = nil; imagePanel.invalidate() }
            return outcome == .quit ? .quit : .handled
        }
        if matrixPanel.focused {
            let outcome = matrixPanel.handle(key, context())
            if outcome != .ignored { afterMove(); return outcome }
        }
        return handleGlobal(key)
    }

    private func handleGlobal(_ key: Key) -> KeyOutcome {
        guard let action = config.keys.action(for: key) else { return .ignored }
        return perform(action, key: key)
    }

    /// One action of the key table. Decisions come here only from a key that arrived alone (`handle(_ burst:)`).
    private func perform(_ action: Action, key: Key) -> KeyOutcome {
        let caseBefore = session.currentIndex
        switch action {
        case .quit: return .quit
        case .next: session.move(by: 1)
        case .previous: session.move(by: -1)
        case .forward10: session.move(by: 10)
        case .back10: session.move(by: -10)
        case .first: session.moveToFirst()
        case .last: session.moveToLast()
        case .accept: decide { try self.session.decide(.accepted) }
        case .flag: decide { try self.session.decide(.flagged) }
        case .relabel:
            guard case .char(let ch) = key, let k = ch.wholeNumberValue else { return .handled }
            guard k < session.classes.count else { setMessage("no class \(k)", error: true); return .handled }
            decide { try self.session.decide(.relabelled, label: k) }
        case .classMenu:
            guard let index = session.currentIndex else { return .handled }
            let suggested = session.filter == .likelyLabelErrors ? session.labelIssues[index]?.suggested : nil
            modal = ClassPicker(classCount: session.classes.count, prediction: session.prediction(for: index),
                                first: suggested) { [unowned self] k in
                self.decide { try self.session.decide(.relabelled, label: k) }
            }
        case .undo:
            do {
                if let path = try session.undo() { setMessage("undone: \((path as NSString).lastPathComponent)") }
                else { setMessage("nothing to undo") }
            } catch { setMessage("undo failed: \(error)", error: true) }
        case .note:
            guard let index = session.currentIndex else { return .handled }
            modal = NoteEditor(initial: session.decision(for: index)?.note ?? "") { [unowned self] text in
                let wasDecided = self.session.decision(for: index) != nil
                do {
                    try self.session.setNote(text)
                    self.setMessage(wasDecided ? "note saved" : "note saved · case flagged")
                } catch { self.setMessage("could not save the note: \(error)", error: true) }
            }
        case .autoAdvance:
            session.autoAdvance.toggle()
            setMessage("auto-advance \(session.autoAdvance ? "on" : "off")")
        case .view: view.cycleMode(allowSideBySide: (layout?.image?.width ?? 0) >= 60)
        case .camMethod:
            view.cycleCAMMethod()
            if view.mode != .sideBySide { view.mode = .gradcam }
            setMessage("CAM method: \(view.camMethod.title) (\(view.camMethod.reference))")
        case .invert: view.window.inverted.toggle()
        case .boxes:
            view.boxLayers = view.boxLayers.next(labelsAllowed: !session.labelsHidden)
            setMessage("boxes: " + view.boxLayers.description + (session.labelsHidden ? " (blind read: the label boxes are part of the label, and stay hidden)" : ""))
        case .windowNarrow:
            if let m = currentDicom { view.adjustDicomWindow(m, widthFactor: 1 / ImageView.steps[view.step].factor) } else { view.narrowWindow() }
        case .windowWiden:
            if let m = currentDicom { view.adjustDicomWindow(m, widthFactor: ImageView.steps[view.step].factor) } else { view.widenWindow() }
        case .levelDown:
            if let m = currentDicom { view.adjustDicomWindow(m, levelDirection: -1) } else { view.shiftLevel(-1) }
        case .levelUp:
            if let m = currentDicom { view.adjustDicomWindow(m, levelDirection: 1) } else { view.shiftLevel(1) }
        case .step:
            view.cycleStep()
            setMessage("window/level step: \(view.stepName)")
        case .preset:
            if let m = currentDicom {
                setMessage("window: \(view.nextDicomPreset(m))")
                break
            }
            view.preset = (view.preset ?? .full).next
            applyPreset()
            setMessage("window: \(view.preset?.title ?? "") (from this image's histogram)")
        case .zoomIn: view.zoomIn()
        case .zoomOut: view.zoomOut()
        case .fit: view.fit()
        case .panLeft, .panRight, .panUp, .panDown:
            let (dx, dy): (Double, Double) = action == .panLeft ? (-1, 0) : action == .panRight ? (1, 0) : action == .panUp ? (0, -1) : (0, 1)
            if !view.pan(dx: dx, dy: dy) { setMessage("zoom in (+) first: the whole image is shown") }
        case .flipHorizontal: view.flipHorizontally()
        case .flipVertical: view.flipVertically()
        case .rotateRight: view.rotate(clockwise: true)
        case .rotateLeft: view.rotate(clockwise: false)
        case .resetView:
            view.reset()
            setMessage("view reset")
        case .filter:
            modal = FilterMenu(classes: session.classes, current: session.filter, labelsHidden: session.labelsHidden,
                               team: session.team.readers.count >= 2) { [unowned self] f in
                self.session.setFilter(f)
                if self.session.isEmpty { self.setMessage("no cases match — / to change the filter", error: true) }
                else if f == .likelyLabelErrors {
                    let p = self.predictions.progress
                    self.setMessage("ranked \(self.session.visible.count) held-out labelled cases"
                                    + (p.done < p.total ? " (\(p.total - p.done) still running: / again to re-rank)" : ""))
                }
            }
        case .clearFilter:
            if session.filter != .all { session.setFilter(.all); setMessage("filter cleared") }
        case .matrix:
            matrixPanel.focused = true
            imagePanel.invalidate()
        case .matrixLabels:
            guard !session.labelsHidden else { setMessage("blind read: the matrix shows your own labels only", error: true); break }
            session.matrixLabels = session.matrixLabels == .dataset ? .reviewed : .dataset
            session.refreshFilter()
            setMessage("matrix rows: \(session.matrixLabels == .dataset ? "dataset labels" : session.team.readers.count >= 2 ? "the team's labels (agreed or adjudicated)" : "reviewed labels")")
        case .matrixSeen:
            session.matrixIncludesSeen.toggle()
            setMessage(session.matrixIncludesSeen ? "matrix: all cases, seen in training included"
                                                  : "matrix: held-out cases only")
        case .export: export(split: session.split)
        case .exportAll: export(split: nil)
        case .sendFindings: sendFindings()
        case .theme:
            config.paletteIndex = (config.paletteIndex + 1) % config.palettes.count
            curses.resetPairs()
            imagePanel.invalidate()
            curses.clearAll()
            setMessage("theme: \(palette.name)")
        case .help: modal = HelpOverlay(keys: config.keys)
        case .repaint:
            imagePanel.invalidate(); curses.clearAll(); return .redraw
        }
        if session.currentIndex != caseBefore {
            view.newCase()
            applyPreset()
        }
        afterMove()
        return .handled
    }

    /// The current case's full-depth grey DICOM image, when it is one (its window/level acts on stored values).
    private var currentDicom: MedicalImage? {
        guard let i = session.currentIndex, case .success(let image)? = images.cached(i),
              let medical = image.source, medical.color == nil else { return nil }
        return medical
    }

    /// A preset's window from the current case's own histogram (again for each case while the preset is on).
    private func applyPreset() {
        guard let preset = view.preset, let i = session.currentIndex else { return }
        // An image still decoding gets its preset when it arrives (`draw` asks again).
        guard case .success(let image)? = images.cached(i) else { presetCase = nil; return }
        presetCase = i
        guard image.source == nil else { return }
        view.window = preset.window(for: image, inverted: view.window.inverted)
    }

    private func afterMove() {
        if let i = session.currentIndex { predictions.prioritize(index: i) }
    }

    private func decide(_ action: () throws -> Void) {
        do {
            try action()
            // An earlier "NOT saved" must not stay on screen once decisions save again.
            if message?.isError == true { setMessage("saved") }
        }
        catch let e as ReviewSession.DecisionError { setMessage(e.description, error: true) }
        catch { setMessage("NOT saved: \(error)", error: true) }
    }

    /// `split`: this split's decisions (`e`), or every split's when nil (`E`).
    private func export(split: String?) {
        // The CSV holds the dataset labels: not during a blind read.
        guard !session.labelsHidden else {
            setMessage("blind read: the CSV holds the labels · export after the read (fracview export)", error: true)
            return
        }
        do {
            let path = split == nil ? config.exportAllPath : config.exportPath
            let n = try exporter.export(reviewer: session.reviewer, split: split, to: path)
            setMessage("exported \(n) reviewed case\(n == 1 ? "" : "s") of \(split.map { "split \($0)" } ?? "every split") → \(path)")
        } catch {
            setMessage("export failed: \(error)", error: true)
        }
    }

    /// `P`: the current case's SR and presentation state to the PACS, in the background (a slow PACS must not
    /// freeze the screen); the answer arrives as a message.
    private func sendFindings() {
        guard let sender = config.findingsSender else {
            setMessage("P sends findings to a PACS: this review is not from one (fracview review URL --study UID)", error: true)
            return
        }
        guard let index = session.currentIndex, session.decision(for: index) != nil else {
            setMessage("decide this case first: a PACS gets the reviewer's decision with the model's", error: true)
            return
        }
        let window = view.dicomWindow.map { (center: Double($0.center), width: Double($0.width)) }
        setMessage("sending to the PACS …")
        sends.enter()
        DispatchQueue.global(qos: .userInitiated).async { [weak self, sends] in
            defer { sends.leave() }
            let outcome: (String, Bool)
            do { outcome = (try sender.send(case: index, window: window), false) } catch { outcome = ("NOT sent: \(error)", true) }
            self?.sendLock.lock(); self?.sentMessage = outcome; self?.sendLock.unlock()
        }
    }

    private func setMessage(_ text: String, error: Bool = false) {
        message = (TerminalSafeText.clean(text), error, Date().addingTimeInterval(error ? 6 : 4))
    }

    // MARK: drawing

    /// Changes that arrive without a key (inference progress, prefetched images, an expiring message).
    private func signature() -> String {
        let p = predictions.progress
        var s = "\(p.done)/\(p.total)"
        if let i = session.currentIndex {
            let state: String
            switch predictions.state(at: i) {
            case .pending: state = "p"
            case .ready(let r): state = "r\(r.gradcam != nil)"
            case .failed: state = "f"
            case .noModel: state = "n"
            }
            s += "|\(i)|\(state)|\(images.cached(i) != nil)"
        }
        // Other readers' decisions and the store's connection change the status bar and the readers panel.
        s += "|\(session.team.rowCount)|\(session.team.disputed.count)|\(session.team.adjudications.count)|\(session.storeState)"
        // A PACS's downloads move the status bar's transfer bar.
        if let t = images.source.transferProgress { s += "|t\(t.done)/\(t.failed)" }
        sendLock.lock(); let sent = sentMessage; sentMessage = nil; sendLock.unlock()
        if let (text, isError) = sent { setMessage(text, error: isError) }
        if let m = message, m.until < Date() { message = nil; s += "|m" }
        s += "|\(message?.text ?? "")"
        return s
    }

    private func draw() {
        if view.preset != nil, presetCase != session.currentIndex { applyPreset() }
        lastSignature = signature()
        let ctx = context()
        let p = palette
        curses.beginFrame()
        curses.setBackground(p.base)
        curses.erase()
        let layout = ScreenLayout(cols: curses.cols, rows: curses.rows, classCount: session.classes.count, wantsImage: true,
                                  unlabelledRow: session.matrixLabels == .dataset && session.hasUnlabelled)
        if layout != self.layout { imagePanel.invalidate() }
        self.layout = layout
        let screen = Rect(row: 0, col: 0, width: layout.cols, height: layout.rows)
        var imageDrawn = false
        if layout.tooSmall {
            curses.put(0, 0, "terminal too small", p.style(p.flagged, bold: true))
            curses.put(1, 0, "\(layout.cols)×\(layout.rows): need ≥ \(ScreenLayout.minimumCols)×\(ScreenLayout.minimumRows)", p.style(p.muted))
            imagePanel.hide(curses)
            curses.refresh()
            return
        }
        CaseHeaderPanel(camMethod: view.camMethod).draw(ctx, in: layout.header)
        if session.isEmpty {
            curses.centered(layout.rows / 2, in: screen, "No cases match the filter. Press / to choose another, Esc for all.",
                            p.style(p.flagged, bold: true))
        } else {
            if let list = layout.caseList { CaseListPanel().draw(ctx, in: list) }
            if let rect = layout.image {
                if config.capabilities.graphics == .none {
                    CaseListPanel().draw(ctx, in: rect)
                } else {
                    imagePanel.draw(ctx, in: rect, view: view, covered: modal != nil || (matrixPanel.focused && layout.matrix == nil))
                    imageDrawn = true
                }
            } else if layout.imageTooSmall, let bars = layout.bars {
                curses.put(bars.row - 1, bars.col, "terminal too small for image", p.style(p.muted), maxWidth: bars.width)
            }
            let matrixAlone = matrixPanel.focused && layout.matrix == nil
            if let bars = layout.bars, !matrixAlone {
                ConfidencePanel(titled: layout.barsTitled).draw(ctx, in: bars)
            }
            if matrixPanel.focused, let rect = layout.matrixFocused {
                if matrixAlone { curses.fill(rect.row, rect.col, width: rect.width, height: rect.height, p.base) }
                matrixPanel.draw(ctx, in: rect)
            } else if let rect = layout.matrix {
                // Adjudicating, the readers' answers matter more than the matrix (`m` still shows it).
                if session.role == .adjudicator { ReadersPanel().draw(ctx, in: rect) } else { matrixPanel.draw(ctx, in: rect) }
            }
        }
        var status = StatusBar()
        status.keys = config.keys
        if let m = message, m.until >= Date() { status.message = m.text; status.messageIsError = m.isError }
        status.draw(ctx, in: layout.status)
        modal?.draw(ctx, screen: screen)
        if !imageDrawn { imagePanel.hide(curses) }

        // Sixel: the frame goes out in one synchronized update, pixels after ncurses' cells.
        if config.capabilities.graphics == .sixel, let sixel = imagePanel.takePendingSixel() {
            Escape.write(Escape.syncBegin)
            curses.refresh()
            var bytes = Array((Escape.saveCursor + Escape.moveTo(row: sixel.row, col: sixel.col)).utf8)
            bytes += sixel.bytes
            bytes += Array((Escape.restoreCursor + Escape.syncEnd).utf8)
            Escape.write(bytes)
        } else {
            curses.refresh()
        }
    }
}
