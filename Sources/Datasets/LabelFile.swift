import Foundation

/// One YOLO label file: lines `class_id cx cy w h`, coordinates normalised to [0, 1].
/// The case's class is the first line's (as in the original notebook). Any malformed line makes the whole case
/// unlabelled with the reason, rather than trusting a file we know is damaged.
struct LabelFile: Equatable {
    var truth: GroundTruth
    /// Distinct class ids in order of first appearance.
    var classes: [Int]
    /// One line per defect, prefixed with the label's path.
    var problems: [String]
    /// Every well-formed line's box, in file order.
    var boxes: [LabelBox] = []

    /// Largest label file read: a YOLO line is about 40 bytes, so 1 MiB is some 25,000 boxes.
    static let maxFileBytes = 1 << 20

    static func read(path: String, displayPath: String, classCount: Int?) -> LabelFile {
        if let size = DirectoryListing.fileSize(path), size > maxFileBytes {
            let reason = "label file is \(size) bytes, over the \(maxFileBytes >> 10) KiB limit"
            return LabelFile(truth: .unlabelled(reason: reason), classes: [], problems: ["\(displayPath): \(reason); not read"])
        }
        guard let data = DirectoryListing.readFile(path, maxBytes: maxFileBytes) else {
            return LabelFile(truth: .unlabelled(reason: "no label file"), classes: [], problems: [])
        }
        return parse(String(decoding: data, as: UTF8.self), displayPath: displayPath, classCount: classCount)
    }

    static func parse(_ text: String, displayPath: String, classCount: Int?) -> LabelFile {
        var classes: [Int] = []
        var boxes: [LabelBox] = []
        var first: Int?
        var problems: [String] = []
        var lineNumber = 0
        var reasons: [String] = []
        func report(_ message: String) {
            reasons.append("line \(lineNumber): \(message)")
            problems.append("\(displayPath): line \(lineNumber): \(message)")
        }
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let tokens = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if tokens.isEmpty { continue }
            guard tokens.count == 5 else {
                report("expected 5 values (class cx cy w h), found \(tokens.count)")
                continue
            }
            guard let id = Int(tokens[0]) else {
                report("class id \"\(tokens[0].prefix(20))\" is not an integer")
                continue
            }
            if id < 0 || (classCount.map { id >= $0 } ?? false) {
                report("class id \(id) out of range 0…\((classCount ?? 1) - 1)")
                continue
            }
            let coords = tokens[1...].map { Double($0) }
            if coords.contains(where: { $0 == nil }) {
                report("a coordinate is not a number")
                continue
            }
            if coords.contains(where: { !(0...1).contains($0!) }) {
                report("coordinates outside [0, 1]")
                continue
            }
            boxes.append(LabelBox(classIndex: id, cx: coords[0]!, cy: coords[1]!, w: coords[2]!, h: coords[3]!))
            if first == nil { first = id }
            if !classes.contains(id) { classes.append(id) }
        }
        if let reason = reasons.first {
            return LabelFile(truth: .unlabelled(reason: "bad label file: " + reason), classes: classes, problems: problems,
                             boxes: boxes)
        }
        guard let first else {
            return LabelFile(truth: .unlabelled(reason: "empty label file"), classes: [], problems: [])
        }
        return LabelFile(truth: .labelled(first), classes: classes, problems: [], boxes: boxes)
    }
}
