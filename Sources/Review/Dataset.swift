// CONTRACT (owned by the review/audit work): other modules rely on these signatures. Stub bodies are replaced.
import Foundation

/// A case's ground truth. A missing or empty label file is `unlabelled`, never class 0 (the notebook's bug).
public enum GroundTruth: Sendable, Equatable {
    case labelled(Int)
    case unlabelled(reason: String)
    public var classIndex: Int? { if case .labelled(let c) = self { return c } else { return nil } }
}

/// One image of a split, with its label state.
public struct DatasetCase: Sendable, Equatable {
    /// Absolute path of the image.
    public let imagePath: String
    /// Path relative to the dataset root, e.g. "test/images/101_jpg.rf.x.jpg".
    public let relativePath: String
    public let split: String
    public let truth: GroundTruth
    /// Label files listing several classes (the case's class is the first line's).
    public let classesInLabelFile: [Int]
    public init(imagePath: String, relativePath: String, split: String, truth: GroundTruth, classesInLabelFile: [Int]) {
        self.imagePath = imagePath; self.relativePath = relativePath; self.split = split
        self.truth = truth; self.classesInLabelFile = classesInLabelFile
    }
}

/// A dataset in YOLO layout: data.yaml (`names`, `nc`) and {train,valid,test}/{images,labels}.
public struct YOLODataset: Sendable {
    public let root: String
    public let classes: [String]
    /// Problems found while reading (malformed data.yaml keys, bad label lines, …), one line each.
    public let problems: [String]

    /// Throws a one-line error if the root or data.yaml is unusable.
    public static func open(root: String) throws -> YOLODataset { fatalError("TODO(review)") }
    /// The splits that exist on disk, in train, valid, test order.
    public var splits: [String] { fatalError("TODO(review)") }
    /// The cases of a split, sorted by file name. Throws if the split has no images folder.
    public func cases(split: String) throws -> [DatasetCase] { fatalError("TODO(review)") }
}
