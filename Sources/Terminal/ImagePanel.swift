import Basics
import Datasets
import Imaging
import Inference
import Model

/// The X-ray pane: a caption row, then the image as sixel pixels, half blocks, or a marker.
/// Sixel pixels are invisible to ncurses, so the panel tracks what it last emitted: when the picture changes,
/// the pane's lines are invalidated (ncurses rewrites their cells, which erases the old pixels) and the new
/// sixel is written after ncurses' refresh.
final class ImagePanel {
    let graphics: GraphicsMode
    var cellSize: CellSize
    private let images: CaseImages
    private var cacheKey: String?
    /// The view on screen: its pixels until its sixel is encoded, then (as when it came precomposed) only its size
    /// and the sixel.
    private var cached: ViewPrecomposer.Composed?
    private var emittedKey: String?
    private let precomposer = ViewPrecomposer()
    /// The sixel to write after the next refresh: bytes and the 0-based cell position.
    private(set) var pendingSixel: (bytes: [UInt8], row: Int, col: Int)?
    /// Size in pixels of the last image drawn (for the tests' and diagnostics' benefit).
    private(set) var lastPixelSize: (Int, Int) = (0, 0)

    init(graphics: GraphicsMode, cellSize: CellSize, images: CaseImages) {
        self.graphics = graphics; self.cellSize = cellSize; self.images = images
    }

    /// Forget what is on screen (after a resize or clear).
    func invalidate() { emittedKey = nil }

    /// Lines where sixel pixels were last written (to erase them when the pane is hidden or covered).
    private(set) var shownRows: (row: Int, count: Int)?

    /// The pane is not drawn or is covered this frame (no cases match, the terminal got small, a modal or the
    /// matrix is over it): erase any pixels left.
    func hide(_ curses: Curses) {
        if let shown = shownRows { curses.invalidateLines(shown.row, shown.count) }
        shownRows = nil
        emittedKey = nil
    }

    func takePendingSixel() -> (bytes: [UInt8], row: Int, col: Int)? {
        defer { pendingSixel = nil }
        return pendingSixel
    }

    func draw(_ ctx: DrawContext, in rect: Rect, view: ImageView, covered: Bool) {
        let c = ctx.curses, p = ctx.palette
        pendingSixel = nil
        guard rect.height >= 3, rect.width >= 8, let index = ctx.session.currentIndex else { return }
        // Caption.
        // A blind read sees no label, and the label file's boxes are part of it (they carry the class when several).
        let boxes = ctx.session.labelsHidden ? [] : ctx.session.cases[index].boxes
        let prediction = ctx.predictions.state(at: index).prediction
        let boxText = Self.boxCaption(labels: boxes.count, detections: prediction?.detections, layers: view.boxLayers)
        let orientation = view.orientationDescription.isEmpty ? "" : " · " + view.orientationDescription
        let area = Rect(row: rect.row + 1, col: rect.col, width: rect.width, height: rect.height - 1)

        // Decoded once per case, by the runner or in the background (the review loop focuses the case when it
        // changes; drawing only reads); a large file shows a marker until it is ready rather than holding the keys.
        let ready = images.image(index, waitingAtMost: 0.05)
        // A DICOM case shows its window in its own units, and says what else the file holds.
        var windowText = view.windowDescription
        if case .success(let img)? = ready, let m = img.source, m.color == nil {
            let w = view.dicomWindow ?? m.initialWindow
            let opening = view.dicomWindow == nil ? (m.voiLUTRendering != nil && m.windows.isEmpty ? "VOI LUT" : "W \(Int(w.width.rounded())) L \(Int(w.center.rounded())) (file)")
                                                  : "W \(Int(w.width.rounded())) L \(Int(w.center.rounded()))"
            windowText = "DICOM · " + opening + (view.window.inverted ? " inv" : "") + (m.note.map { " · " + $0 } ?? "")
        }
        // The CAM shown is the crop classifiers' (in their crop) when the model has them.
        let mapOwner = (view.mode == .gradcam || view.mode == .sideBySide) && prediction?.crop?.maps.isEmpty == false ? " of the crop" : ""
        let caption = " \(view.title)\(mapOwner) · \(windowText)\(view.zoom > 1.01 ? String(format: " · %.1f×", view.zoom) : "")\(orientation)\(boxText) "
        c.put(rect.row, rect.col, caption, p.style(p.muted), maxWidth: rect.width)
        let image: RGBImage
        switch ready {
        case nil:
            markOnly(ctx, area, key: "loading-\(index)", lines: ["decoding the image…"], color: p.muted)
            return
        case .failure(let error)?:
            markOnly(ctx, area, key: "failed-\(index)", lines: ["⚠ image cannot be decoded", TerminalSafeText.clean(error.reason),
                                                                 "the case stays reviewable"], color: p.disagree)
            return
        case .success(let img)?: image = img
        }
        let (maxW, maxH): (Int, Int)
        // Each half block is cellWidth × cellHeight/2 on screen, so the X-ray keeps its shape whatever the font.
        let pixelAspect = graphics == .blocks ? Double(max(1, cellSize.width)) / (Double(max(2, cellSize.height)) / 2) : 1
        switch graphics {
        case .none:
            markOnly(ctx, area, key: "none", lines: ["(graphics off)"], color: p.muted)
            return
        case .blocks: (maxW, maxH) = (area.width, area.height * 2)
        case .sixel:
            // Whole sixel bands (6 px) that stay inside the pane, so the terminal never scrolls.
            let h = (area.height * cellSize.height) / 6 * 6
            (maxW, maxH) = (area.width * cellSize.width, h)
        }
        func renderKey(_ v: ImageView, case shown: Int, _ maps: Prediction?) -> String {
            "\(shown)|\(v.renderKey)|\(maxW)x\(maxH)|\(pixelAspect)|\(p.colormap)|\(maps?.map(v.camMethod) != nil)|\(maps?.attention != nil)|\(maps?.detections?.count ?? -1)|\(maps?.crop != nil)"
        }
        func renderKey(_ v: ImageView) -> String { renderKey(v, case: index, prediction) }
        // One view of one case, as the pane draws it: now, or later on the precomposer's queue.
        let colormap = p.colormap, background = p.background, modelBox = p.modelBox, sixel = graphics == .sixel
        func renderer(_ v: ImageView, _ picture: RGBImage, _ maps: Prediction?, _ shownBoxes: [LabelBox])
            -> @Sendable () -> (RGBImage, String?)? {
            { ImageRenderer.render(image: picture, prediction: maps, view: v, colormap: colormap, maxWidth: maxW,
                                   maxHeight: maxH, background: background, pixelAspect: pixelAspect,
                                   boxes: shownBoxes, modelBoxColor: modelBox) }
        }
        let key = renderKey(view)

        if key != cacheKey {
            // The view being left stays at hand: `=` after `+`, `-`, or `g` coming round, go straight back to it.
            if let oldKey = cacheKey, let frame = cached, !sixel || frame.sixel != nil {
                precomposer.keep(oldKey, frame)
            }
            cached = precomposer.take(key)
                ?? renderer(view, image, prediction, boxes)().map { .init(rendered: $0.0, note: $0.1, sixel: nil) }
            cacheKey = key
        }
        // The view `g` shows next, composed in the background while this one is looked at.
        if prediction?.map(view.camMethod) != nil {
            var next = view
            next.cycleMode(allowSideBySide: area.width >= 60)
            precomposer.compose(key: renderKey(next), sixel: sixel, render: renderer(next, image, prediction, boxes))
        }
        // One zoom step in (`+`), once the reviewer has looked for a moment; the slot's newer request (another case,
        // another view) replaces a waiting one.
        if view.zoom < 8 {
            var zoomed = view
            zoomed.zoomIn()
            precomposer.composeIfStill(.zoom, key: renderKey(zoomed), after: 0.2, sixel: sixel,
                                       render: renderer(zoomed, image, prediction, boxes))
        }
        // The case `→` shows next, in this view, once its image is decoded (the neighbours decode in the
        // background, and a finished decode redraws) and the reviewer has looked at this one for 0.1 s.
        let session = ctx.session
        if session.position + 1 < session.visible.count {
            let nextIndex = session.visible[session.position + 1]
            let nextPrediction = ctx.predictions.state(at: nextIndex).prediction
            if case .success(let nextImage)? = images.image(nextIndex, waitingAtMost: 0) {
                let nextBoxes = session.labelsHidden ? [] : session.cases[nextIndex].boxes
                precomposer.composeIfStill(key: renderKey(view, case: nextIndex, nextPrediction), after: 0.1, sixel: sixel,
                                           render: renderer(view, nextImage, nextPrediction, nextBoxes))
            }
        }
        guard let frame = cached else { return }
        let note = frame.note
        lastPixelSize = (frame.width, frame.height)
        if let note {
            c.put(rect.row, rect.right - note.unicodeScalars.count - 1, note, p.style(p.flagged))
        } else if view.mode != .original {
            drawLegend(c, p, row: rect.row, right: rect.right, captionEnd: rect.col + caption.unicodeScalars.count)
        }
        switch graphics {
        case .blocks:
            if let pixels = frame.pixels { drawBlocks(c, pixels, area) }
        case .sixel:
            let cols = (frame.width + cellSize.width - 1) / cellSize.width
            let rows = (frame.height + cellSize.height - 1) / cellSize.height
            let col = area.col + max(0, (area.width - cols) / 2)
            let row = area.row + max(0, (area.height - rows) / 2)
            let placed = key + "@\(row),\(col)"
            // Covered (a modal, or the matrix alone over the pane): erase the pixels once; they come back when
            // the pane is uncovered because nothing counts as emitted any more.
            if covered { hide(c); return }
            if placed != emittedKey {
                c.invalidateLines(area.row, area.height)
                if frame.sixel == nil, let pixels = frame.pixels {
                    cached = .init(rendered: pixels, note: frame.note, sixel: SixelEncoder.encode(pixels))
                }
                if let bytes = cached?.sixel { pendingSixel = (bytes, row, col); shownRows = (area.row, area.height) }
                emittedKey = placed
            }
        case .none: break
        }
    }

    /// The caption's word on the boxes: how many label boxes, the model's box and its score (or that it found
    /// nothing), or what `b` hid.
    static func boxCaption(labels: Int, detections: [Detection]?, layers: BoxLayers) -> String {
        var parts: [String] = []
        if labels > 0 { parts.append(layers.showsLabels ? "\(labels) label box\(labels == 1 ? "" : "es")" : "label boxes hidden") }
        if let detections {
            if let top = detections.first {
                parts.append(layers.showsModel ? String(format: "model box %.2f", Double(top.score)) : "model box hidden")
            } else {
                parts.append("model: no fracture found")
            }
        }
        return parts.map { " · " + $0 }.joined()
    }

    /// The map's colour scale at the caption's right end: "low ▮▮▮▮▮▮▮▮▮▮ high" in the theme's colormap, the
    /// same colours as the overlay (its values are scaled to 0…1 per case).
    private func drawLegend(_ c: Curses, _ p: Palette, row: Int, right: Int, captionEnd: Int) {
        let steps = 10
        let width = 4 + steps + 5
        let x = right - width - 1
        guard x > captionEnd + 1 else { return }
        let lut = p.colormap.lut
        c.put(row, x, "low ", p.style(p.muted))
        for i in 0..<steps {
            let v = Colormap.index(Float(i) / Float(steps - 1)) * 3
            c.put(row, x + 4 + i, "█", p.style(RGB(lut[v], lut[v + 1], lut[v + 2])))
        }
        c.put(row, x + 4 + steps, " high", p.style(p.muted))
    }

    private func markOnly(_ ctx: DrawContext, _ area: Rect, key: String, lines: [String], color: RGB) {
        if graphics == .sixel && emittedKey != key {
            ctx.curses.invalidateLines(area.row, area.height)
            emittedKey = key
        }
        let top = area.row + max(0, (area.height - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            ctx.curses.centered(top + i, in: area, line, ctx.palette.style(i == 0 ? color : ctx.palette.muted, bold: i == 0))
        }
    }

    private func drawBlocks(_ c: Curses, _ image: RGBImage, _ area: Rect) {
        let cols = image.width, rows = (image.height + 1) / 2
        let col0 = area.col + max(0, (area.width - cols) / 2)
        let row0 = area.row + max(0, (area.height - rows) / 2)
        image.pixels.withUnsafeBufferPointer { px in
            func rgb(_ x: Int, _ y: Int) -> RGB {
                let i = (y * image.width + x) * 3
                return RGB(px[i], px[i + 1], px[i + 2])
            }
            for r in 0..<rows {
                for x in 0..<cols {
                    let top = rgb(x, 2 * r)
                    let bottom = 2 * r + 1 < image.height ? rgb(x, 2 * r + 1) : top
                    c.halfBlock(row0 + r, col0 + x, top: top, bottom: bottom)
                }
            }
        }
    }
}
