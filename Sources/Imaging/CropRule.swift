import Basics

/// The crop a crop classifier sees (training/crops.py `crop_box`, pixel for pixel): a square around a box of the
/// box's longer side plus `pad` of it on each side, at least `minSide` of the image's shorter side and at most all
/// of it, centred on the box and shifted to lie inside the image, rounded to whole pixels as Python's `round` does
/// (halves to even). The pixels are then cut from the full-resolution image and resized like the whole image.
public struct CropRule: Sendable, Equatable {
    public var pad: Double
    public var minSide: Double
    public init(pad: Double = 0.25, minSide: Double = 0.2) { self.pad = pad; self.minSide = minSide }

    /// The square's left, top and side in pixels of a width × height image.
    public func pixelSquare(around box: ImageBox, width: Int, height: Int) -> (left: Int, top: Int, side: Int) {
        let w = Double(width), h = Double(height)
        let short = min(w, h)
        var side = max(box.width * w, box.height * h) * (1 + 2 * pad)
        side = min(max(side, minSide * short), short)
        let cx = (box.x0 + box.x1) / 2 * w, cy = (box.y0 + box.y1) / 2 * h
        let s = Int(side.rounded(.toNearestOrEven))
        var left = Int(min(max(cx - side / 2, 0), w - side).rounded(.toNearestOrEven))
        var top = Int(min(max(cy - side / 2, 0), h - side).rounded(.toNearestOrEven))
        left = min(max(left, 0), width - s)
        top = min(max(top, 0), height - s)
        return (left, top, s)
    }

    /// The crop around `box`, cut from `image`, and where it lies (normalised): the whole image when there is no
    /// box (the localiser found nothing) or the box cannot be used.
    public func cut(_ image: RGBImage, around box: ImageBox?) -> (pixels: RGBImage, region: ImageBox) {
        let whole = (image, ImageBox(x0: 0, y0: 0, x1: 1, y1: 1))
        guard let box, box.isUsable, image.width > 0, image.height > 0 else { return whole }
        let (left, top, side) = pixelSquare(around: box, width: image.width, height: image.height)
        guard side > 0 else { return whole }
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            let from = ((top + y) * image.width + left) * 3
            pixels.replaceSubrange((y * side * 3)..<((y + 1) * side * 3), with: image.pixels[from..<(from + side * 3)])
        }
        let w = Double(image.width), h = Double(image.height)
        return (RGBImage(width: side, height: side, pixels: pixels),
                ImageBox(x0: Double(left) / w, y0: Double(top) / h, x1: Double(left + side) / w, y1: Double(top + side) / h))
    }
}
