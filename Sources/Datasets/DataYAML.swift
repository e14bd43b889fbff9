import Foundation
import Yams

/// The class list of a YOLO `data.yaml`. Every defect becomes a one-line problem instead of an error, so an audit
/// can carry on; the caller decides what is fatal.
struct DataYAML {
    /// Most classes a dataset may have (HBFMID has 10; COCO 80; the largest public label sets about 1000). Bounds
    /// every allocation made from `nc`, `names` ids and label-file ids.
    static let maxClasses = 1000
    /// Largest data.yaml read (real ones are under 1 KiB).
    static let maxFileBytes = 1 << 20

    /// Class names; nil when the file gives neither `names` nor a usable `nc`.
    var classes: [String]?
    /// Set when two classes share an id or a name: a label could then be read as the wrong class, so nothing may be
    /// scored against this list (issue #26 §11).
    var ambiguity: String?
    var problems: [String] = []

    static func read(path: String) -> DataYAML {
        if let size = DirectoryListing.fileSize(path), size > maxFileBytes {
            return DataYAML(classes: nil, problems: ["data.yaml: \(size) bytes, over the \(maxFileBytes >> 10) KiB limit; not read"])
        }
        guard let data = DirectoryListing.readFile(path, maxBytes: maxFileBytes) else {
            return DataYAML(classes: nil, problems: ["data.yaml: missing or unreadable"])
        }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> DataYAML {
        let node: Node?
        // A UTF-8 byte-order mark (Windows editors write one) is not YAML content; PyYAML skips it too.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        do { node = try ConfigYAML.compose(text) } catch {
            let firstLine = "\(error)".split(separator: "\n").first.map(String.init) ?? "syntax error"
            return DataYAML(classes: nil, problems: ["data.yaml: not valid YAML (\(firstLine))"])
        }
        guard let mapping = node?.mapping else {
            return DataYAML(classes: nil, problems: ["data.yaml: expected a mapping with `names` and `nc`"])
        }
        var result = DataYAML(classes: nil)
        var nc: Int?
        if let ncNode = mapping["nc"] {
            if let value = ncNode.int, value > maxClasses {
                result.problems.append("data.yaml: `nc` is \(value), over the limit of \(maxClasses) classes; ignored")
            } else if let value = ncNode.int, value >= 0 { nc = value } else {
                result.problems.append("data.yaml: `nc` is not a non-negative integer (\(ncNode.string ?? "?"))")
            }
        }
        if let namesNode = mapping["names"] {
            result.classes = names(from: namesNode, problems: &result.problems, ambiguous: &result.ambiguity)
            if let classes = result.classes {
                var first: [String: Int] = [:]
                for (id, name) in classes.enumerated() {
                    let key = name.trimmingCharacters(in: .whitespaces).lowercased()
                    if let earlier = first[key] {
                        result.problems.append("data.yaml: classes \(earlier) and \(id) have the same name \"\(name)\"")
                        result.ambiguity = result.ambiguity ?? result.problems.last
                    } else { first[key] = id }
                }
            }
        } else {
            result.problems.append("data.yaml: no `names` key")
        }
        if let names = result.classes, let nc, nc != names.count {
            result.problems.append("data.yaml: `nc` is \(nc) but `names` lists \(names.count) classes; using `names`")
        }
        if result.classes == nil, let nc {
            result.classes = (0..<nc).map { "class \($0)" }
            result.problems.append("data.yaml: class names unknown; using \"class 0\"…\"class \(max(nc - 1, 0))\"")
        }
        return result
    }

    /// `names` as a sequence, or as a mapping {id: name} (the newer Ultralytics form).
    private static func names(from node: Node, problems: inout [String], ambiguous: inout String?) -> [String]? {
        if let sequence = node.sequence {
            if sequence.count > maxClasses {
                problems.append("data.yaml: `names` lists \(sequence.count) classes, over the limit of \(maxClasses); using the first \(maxClasses)")
            }
            return sequence.prefix(maxClasses).enumerated().map { index, item in
                if let s = item.string { return s }
                problems.append("data.yaml: name \(index) is not a string")
                return "class \(index)"
            }
        }
        if let mapping = node.mapping {
            var byID: [Int: String] = [:]
            for (key, value) in mapping {
                guard let id = key.int, id >= 0 else {
                    problems.append("data.yaml: `names` key \(key.string ?? "?") is not a class id"); continue
                }
                guard id < maxClasses else {
                    problems.append("data.yaml: `names` key \(id) is over the limit of \(maxClasses) classes; ignored"); continue
                }
                if let earlier = byID[id] {  // `0` and `0x0` are one id: a second name must not replace the first
                    problems.append("data.yaml: class id \(id) is named twice (\"\(earlier)\" and \"\(value.string ?? "?")\"); the first is used")
                    ambiguous = ambiguous ?? problems.last
                    continue
                }
                byID[id] = value.string ?? "class \(id)"
            }
            guard let maxID = byID.keys.max() else { problems.append("data.yaml: `names` is empty"); return nil }
            return (0...maxID).map { id in
                if let name = byID[id] { return name }
                problems.append("data.yaml: `names` has no entry for class \(id)")
                return "class \(id)"
            }
        }
        problems.append("data.yaml: `names` is neither a list nor a mapping")
        return nil
    }
}
