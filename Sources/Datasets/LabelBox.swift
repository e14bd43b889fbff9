import Basics

/// One label line's box: its class and the box (YOLO `class cx cy w h`, normalised).
public struct LabelBox: Sendable, Equatable {
    public let classIndex: Int
    public let box: ImageBox
    public init(classIndex: Int, cx: Double, cy: Double, w: Double, h: Double) {
        self.classIndex = classIndex
        box = ImageBox(cx: cx, cy: cy, w: w, h: h)
    }
}

extension DatasetCase {
    /// The label boxes' rectangles (the pointing game and the localisation metrics score against them).
    public var labelBoxes: [ImageBox] { boxes.map(\.box) }
}
