import Basics
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
    let session: ReviewSession
    let predictions: PredictionSource
    let images: CaseImages
    private let exporter: DecisionExporter
    /// A background send's answer, for the loop to show.
    private let sendLock = NSLock()
    private var sentMessage: (String, Bool)?
    /// Sends under way: quitting waits for them (up to `sendGrace`), so that an answer is never cut off.
    private let sends = DispatchGroup()
    private let sendGrace: TimeInterval = 30
    var config: ReviewAppConfiguration
    private let curses = Curses()
    private let input = TerminalInput()
    private let imagePanel: ImagePanel
    let matrixPanel = ConfusionMatrixPanel()
    var modal: ModalPanel?
    var view = ImageView()
    private var message: (text: String, isError: Bool, until: Date)?
    private var lastSignature = ""
    /// The case the window preset was last computed for.
    private var presetCase: Int?
    /// The case whose image and prediction were last put first (`afterMove`).
    private var focusedCase: Int?
    private var nextStorePoll = Date()
    private(set) var layout: ScreenLayout?

    public init(session: ReviewSession, predictions: PredictionSource, images: CaseImages, exporter: DecisionExporter,
                configuration: ReviewAppConfiguration) {
        self.session = session; self.predictions = predictions; self.images = images; self.exporter = exporter
        self.config = configuration
        imagePanel = ImagePanel(graphics: configuration.capabilities.graphics, cellSize: configuration.capabilities.cellSize,
                                images: images)
    }

    var palette: Palette {
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
        afterMove()
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
                afterMove()
                if signature() != lastSignature { draw() }
                continue
            }
            if handle(burst) == .quit { break }
            afterMove()
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

    /// One action of the key table, through its handler (`ActionHandlers`): the handler changes the session or the
    /// view and says what the loop must do next (htop's pattern); the loop does it here. Decisions come here only
    /// from a key that arrived alone (`handle(_ burst:)`).
    private func perform(_ action: Action, key: Key) -> KeyOutcome {
        let caseBefore = session.currentIndex
        let reaction = ActionHandlers.handler(for: action)(self, key)
        if reaction.contains(.quit) { return .quit }
        if reaction.contains(.newColours) { curses.resetPairs() }
        if !reaction.isDisjoint(with: [.imageCovered, .clearScreen, .newColours]) { imagePanel.invalidate() }
        if !reaction.isDisjoint(with: [.clearScreen, .newColours]) { curses.clearAll() }
        if session.currentIndex != caseBefore {
            view.newCase()
            applyPreset()
        }
        afterMove()
        return reaction.contains(.clearScreen) ? .redraw : .handled
    }

    /// The current case's full-depth grey DICOM image, when it is one (its window/level acts on stored values).
    var currentDicom: MedicalImage? {
        guard let i = session.currentIndex, case .success(let image)? = images.cached(i),
              let medical = image.source, medical.color == nil else { return nil }
        return medical
    }

    /// A preset's window from the current case's own histogram (again for each case while the preset is on).
    func applyPreset() {
        guard let preset = view.preset, let i = session.currentIndex else { return }
        // An image still decoding gets its preset when it arrives (`draw` asks again).
        guard case .success(let image)? = images.cached(i) else { presetCase = nil; return }
        presetCase = i
        guard image.source == nil else { return }
        view.window = preset.window(for: image, inverted: view.window.inverted)
    }

    /// The case on screen comes first: its prediction, and its image and its neighbours' decodes. Called by the
    /// loop after every key and before a redraw it was not asked for (another window's change may move the case).
    private func afterMove() {
        guard let i = session.currentIndex, i != focusedCase else { return }
        focusedCase = i
        predictions.prioritize(index: i)
        images.focus(i)
    }

    func decide(_ action: () throws -> Void) {
        do {
            try action()
            // An earlier "NOT saved" must not stay on screen once decisions save again.
            if message?.isError == true { setMessage("saved") }
        }
        catch let e as ReviewSession.DecisionError { setMessage(e.description, error: true) }
        catch { setMessage("NOT saved: \(error)", error: true) }
    }

    /// `split`: this split's decisions (`e`), or every split's when nil (`E`).
    func export(split: String?) {
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
    func sendFindings() {
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

    func setMessage(_ text: String, error: Bool = false) {
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
