import Basics

/// A box the localiser found, with its score: the probability its centre map gives the box's centre cell.
public struct Detection: Sendable, Equatable {
    public var box: ImageBox
    public var score: Float
    public init(box: ImageBox, score: Float) { self.box = box; self.score = score }

    /// `[x0, y0, x1, y1, score]` with the corners in the pixels of a width × height image (JSON and CSV output).
    public func pixelValues(width: Int, height: Int) -> [Double] { box.pixels(width: width, height: height) + [Double(score)] }
}
