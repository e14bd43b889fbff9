import Basics
public enum Overlay {
    /// The notebook's display: the map resized to the image, coloured, blended 0.6·image + 0.4·heat.
    ///
    /// As the notebook's OpenCV calls: `cv2.resize(map, (w, h))` (INTER_LINEAR, see `Resize.map`),
    /// `applyColorMap(np.uint8(255 * map))` (see `Colormap.index`), then `cv2.addWeighted(image, a, heat, 1 − a, 0)`:
    /// Float32 fused multiply-adds, rounded half to even and saturated to 0…255, as OpenCV's vector path does.
    /// The weight of the heat is 1 − imageWeight rounded to 6 decimals (0.4 exactly for the default, as in cv2).
    /// `smooth`: bicubic upsampling of the map (the review screen) instead of the notebook's bilinear (figures).
    public static func heatmap(_ map: [Float], mapWidth: Int, mapHeight: Int, over image: RGBImage,
                               colormap: Colormap = .jet, imageWeight: Float = 0.6, smooth: Bool = false) -> RGBImage {
        let heat = colored(map, mapWidth: mapWidth, mapHeight: mapHeight, width: image.width, height: image.height,
                           colormap: colormap, smooth: smooth)
        return blend(image, heat, imageWeight: imageWeight)
    }

    /// `heatmap` inside `region` (normalised) only: the pixels there are blended with the map resized to the
    /// region, the rest of the image is left as it is (a crop classifier's CAM, drawn where its crop lies).
    public static func heatmap(_ map: [Float], mapWidth: Int, mapHeight: Int, over image: RGBImage, in region: ImageBox,
                               colormap: Colormap = .jet, imageWeight: Float = 0.6, smooth: Bool = false) -> RGBImage {
        if region == ImageBox(x0: 0, y0: 0, x1: 1, y1: 1) {
            return heatmap(map, mapWidth: mapWidth, mapHeight: mapHeight, over: image, colormap: colormap,
                           imageWeight: imageWeight, smooth: smooth)
        }
        let x0 = max(0, min(image.width, Int((region.x0 * Double(image.width)).rounded())))
        let y0 = max(0, min(image.height, Int((region.y0 * Double(image.height)).rounded())))
        let x1 = max(x0, min(image.width, Int((region.x1 * Double(image.width)).rounded())))
        let y1 = max(y0, min(image.height, Int((region.y1 * Double(image.height)).rounded())))
        let w = x1 - x0, h = y1 - y0
        guard w > 0, h > 0 else { return image }
        var part = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let from = ((y0 + y) * image.width + x0) * 3
            part.replaceSubrange((y * w * 3)..<((y + 1) * w * 3), with: image.pixels[from..<(from + w * 3)])
        }
        let blended = heatmap(map, mapWidth: mapWidth, mapHeight: mapHeight, over: RGBImage(width: w, height: h, pixels: part),
                              colormap: colormap, imageWeight: imageWeight, smooth: smooth)
        var out = image
        for y in 0..<h {
            let to = ((y0 + y) * image.width + x0) * 3
            out.pixels.replaceSubrange(to..<(to + w * 3), with: blended.pixels[(y * w * 3)..<((y + 1) * w * 3)])
        }
        return out
    }

    /// The map alone, resized to width×height and coloured (for the attention view).
    public static func colored(_ map: [Float], mapWidth: Int, mapHeight: Int, width: Int, height: Int,
                               colormap: Colormap = .jet, smooth: Bool = false) -> RGBImage {
        let resized = smooth ? Resize.mapSmooth(map, width: mapWidth, height: mapHeight, toWidth: width, toHeight: height)
                             : Resize.map(map, width: mapWidth, height: mapHeight, toWidth: width, toHeight: height)
        let lut = colormap.lut
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for (i, v) in resized.enumerated() {
            let c = Colormap.index(v) * 3
            pixels[i * 3] = lut[c]
            pixels[i * 3 + 1] = lut[c + 1]
            pixels[i * 3 + 2] = lut[c + 2]
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// `cv2.addWeighted(a, alpha, b, 1 − alpha, 0)` on same-sized images.
    public static func blend(_ a: RGBImage, _ b: RGBImage, imageWeight: Float = 0.6) -> RGBImage {
        precondition(a.width == b.width && a.height == b.height, "Overlay.blend: sizes differ")
        let alpha = imageWeight
        let beta = Float(((1 - Double(imageWeight)) * 1e6).rounded() / 1e6)
        var table = [Float](repeating: 0, count: 256)   // beta·b for each byte b, as one FMA step
        for v in 0..<256 { table[v] = Float(0).addingProduct(Float(v), beta) }
        var out = [UInt8](repeating: 0, count: a.pixels.count)
        for i in 0..<out.count {
            let v = table[Int(b.pixels[i])].addingProduct(Float(a.pixels[i]), alpha).rounded(.toNearestOrEven)
            out[i] = UInt8(min(max(v, 0), 255))
        }
        return RGBImage(width: a.width, height: a.height, pixels: out)
    }
}
