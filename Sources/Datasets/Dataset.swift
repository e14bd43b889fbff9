import Basics
// The dataset model other modules rely on: cases, their ground truth, and the YOLO reader.
import Foundation

/// A case's ground truth. A missing or empty label file is `unlabelled`, never class 0 (the notebook's bug).
public enum GroundTruth: Sendable, Equatable {
    case labelled(Int)
    case unlabelled(reason: String)
    public var classIndex: Int? {
        // Not inlined: the Swift 6.3 optimizer crashed (ownership verifier, "outside of lifetime use") when this
        // switch was inlined across modules into Terminal's ReviewSession in release builds.
        @inline(never) get {
            switch self {
            case .labelled(let c): return c
            case .unlabelled: return nil
            }
        }
    }
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
    /// The label file's boxes (where the annotator marked the fracture).
    public let boxes: [LabelBox]
    /// What the screen calls the case when its key is not a readable name (a PACS instance: study date, series,
    /// instance number, never the patient); nil: the relative path.
    public let displayName: String?
    public init(imagePath: String, relativePath: String, split: String, truth: GroundTruth, classesInLabelFile: [Int],
                boxes: [LabelBox] = [], displayName: String? = nil) {
        self.imagePath = imagePath; self.relativePath = relativePath; self.split = split
        self.truth = truth; self.classesInLabelFile = classesInLabelFile; self.boxes = boxes
        self.displayName = displayName
    }

    /// The case list's short name: the display name, or the file name.
    public var shortName: String { displayName ?? (relativePath as NSString).lastPathComponent }
}

/// A one-line error for a dataset that cannot be used at all.
public struct DatasetError: OneLineError {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A dataset in YOLO layout: data.yaml (`names`, `nc`) and {train,valid,test}/{images,labels}.
/// Everything is read once by `open`, so the cases and problems are a consistent snapshot.
public struct YOLODataset: Sendable {
    public let root: String
    public let classes: [String]
    /// Problems found while reading (malformed data.yaml keys, bad label lines, …), one line each.
    public let problems: [String]
    /// Why the class list cannot be scored against (two classes share an id or a name), or nil.
    public var classListAmbiguity: String?
    /// Per split: the cases, sorted by file name.
    private let casesBySplit: [String: [DatasetCase]]
    /// Per split: label files with no image (relative paths).
    public let orphanLabels: [String: [String]]
    /// Per split: problems of that split only (label lines, undecodable names, missing folders).
    public let splitProblems: [String: [String]]
    private let splitOrder: [String]

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "dcm", "dicom"]
    /// The one split of a plain folder of images (no data.yaml, no */images): every case unlabelled.
    public static let plainFolderSplit = "all"
    static let knownSplits = ["train", "valid", "val", "test"]

    /// Throws a one-line error if the root or data.yaml is unusable.
    public static func open(root: String) throws -> YOLODataset {
        let root = URL(fileURLWithPath: root).standardizedFileURL.path
        guard DirectoryListing.isDirectory(root) else { throw DatasetError("\(root): no such dataset folder") }
        var yaml = DataYAML.read(path: root + "/data.yaml")
        var problems = yaml.problems

        var splits = discoverSplits(root: root)
        // A plain folder of images or DICOM files: one split, no labels, and the model's classes (none here).
        let plain = splits.isEmpty && !FileManager.default.fileExists(atPath: root + "/data.yaml") && hasImages(root)
        if plain {
            splits = [plainFolderSplit]
            yaml = DataYAML(classes: [], problems: [])
            problems = []
        }
        if splits.isEmpty && yaml.classes == nil {
            throw DatasetError("\(root): not a YOLO dataset (no usable data.yaml and no */images folder) nor a folder of images")
        }
        if splits.isEmpty { problems.append("\(root): no split folders (train/valid/test with images/)") }

        if yaml.classes == nil {
            // Without names, fall back to ids seen in the labels so the images can still be audited. Ids past the
            // class limit are not classes: the split scan reports them as out-of-range label lines.
            let maxID = splits.flatMap { labelClassIDs(root: root, split: $0) }.max() ?? -1
            yaml.classes = (0...max(maxID, 0)).map { "class \($0)" }
            problems.append("data.yaml: using \(maxID + 1) placeholder class names from the label files")
        }
        let classes = yaml.classes ?? []

        var casesBySplit: [String: [DatasetCase]] = [:]
        var orphans: [String: [String]] = [:]
        var splitProblems: [String: [String]] = [:]
        for split in splits {
            let scan = scanSplit(root: root, split: split, classCount: classes.count, plain: plain)
            casesBySplit[split] = scan.cases
            orphans[split] = scan.orphanLabels
            splitProblems[split] = scan.problems
            problems += scan.problems
        }
        var dataset = YOLODataset(root: root, classes: classes, problems: problems, casesBySplit: casesBySplit,
                                  orphanLabels: orphans, splitProblems: splitProblems, splitOrder: splits)
        dataset.classListAmbiguity = yaml.ambiguity
        return dataset
    }

    /// The splits that exist on disk, in train, valid, test order.
    public var splits: [String] { splitOrder }

    /// The cases of a split, sorted by file name. Throws if the split has no images folder.
    public func cases(split: String) throws -> [DatasetCase] {
        guard let cases = casesBySplit[split] else {
            throw DatasetError("\(root): split \"\(split)\" has no images folder (have: \(splitOrder.joined(separator: ", ")))")
        }
        return cases
    }

    /// Every case of every split, in split order.
    public var allCases: [DatasetCase] { splitOrder.flatMap { casesBySplit[$0] ?? [] } }

    // MARK: - Reading

    private static func hasImages(_ dir: String) -> Bool {
        (DirectoryListing.entries(of: dir) ?? []).compactMap(\.name)
            .contains { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
    }

    /// The folder holding a split's images (the root itself for a plain folder).
    static func imageFolder(root: String, split: String, plain: Bool) -> String {
        plain ? root : "\(root)/\(split)/images"
    }

    private static func discoverSplits(root: String) -> [String] {
        let names = (DirectoryListing.entries(of: root) ?? []).compactMap(\.name)
            .filter { DirectoryListing.isDirectory("\(root)/\($0)/images") }
        let known = knownSplits.filter(names.contains)
        return known + names.filter { !knownSplits.contains($0) }.sorted()
    }

    private static func labelClassIDs(root: String, split: String) -> [Int] {
        let dir = "\(root)/\(split)/labels"
        return (DirectoryListing.entries(of: dir) ?? []).compactMap(\.name).flatMap { name -> [Int] in
            guard name.hasSuffix(".txt") else { return [] }
            return LabelFile.read(path: "\(dir)/\(name)", displayPath: name, classCount: DataYAML.maxClasses).classes
        }
    }

    private struct SplitScan { var cases: [DatasetCase] = []; var orphanLabels: [String] = []; var problems: [String] = [] }

    private static func scanSplit(root: String, split: String, classCount: Int, plain: Bool = false) -> SplitScan {
        var scan = SplitScan()
        let imageDir = imageFolder(root: root, split: split, plain: plain), labelDir = "\(root)/\(split)/labels"
        var imageNames: [String] = []
        for entry in DirectoryListing.entries(of: imageDir) ?? [] {
            guard let name = entry.name else {
                scan.problems.append("\(split)/images/\(DirectoryListing.escaped(entry.bytes)): file name is not UTF-8; skipped")
                continue
            }
            let ext = (name as NSString).pathExtension.lowercased()
            if imageExtensions.contains(ext) { imageNames.append(name) }
        }
        imageNames.sort()
        let hasLabelDir = !plain && DirectoryListing.isDirectory(labelDir)
        if !hasLabelDir && !plain { scan.problems.append("\(split)/labels: missing folder; every case of \(split) is unlabelled") }
        var labelNames = Set<String>()
        for entry in (hasLabelDir ? DirectoryListing.entries(of: labelDir) ?? [] : []) {
            guard let name = entry.name else {
                scan.problems.append("\(split)/labels/\(DirectoryListing.escaped(entry.bytes)): file name is not UTF-8; skipped")
                continue
            }
            if name.hasSuffix(".txt") { labelNames.insert(name) }
        }
        var usedLabels = Set<String>()
        for name in imageNames {
            let stem = (name as NSString).deletingPathExtension
            let labelName = stem + ".txt"
            let rel = plain ? name : "\(split)/images/\(name)"
            let label: LabelFile
            if labelNames.contains(labelName) {
                usedLabels.insert(labelName)
                label = LabelFile.read(path: "\(labelDir)/\(labelName)", displayPath: "\(split)/labels/\(labelName)",
                                       classCount: classCount)
                scan.problems += label.problems
            } else {
                label = LabelFile(truth: .unlabelled(reason: "no label file"), classes: [], problems: [])
            }
            scan.cases.append(DatasetCase(imagePath: "\(imageDir)/\(name)", relativePath: rel, split: split,
                                          truth: label.truth, classesInLabelFile: label.classes, boxes: label.boxes))
        }
        scan.orphanLabels = labelNames.subtracting(usedLabels).sorted().map { "\(split)/labels/\($0)" }
        return scan
    }
}
