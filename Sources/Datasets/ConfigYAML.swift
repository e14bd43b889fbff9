import Foundation
import Yams

/// The one way fracview reads a YAML file it is given (data.yaml, keys.yaml, themes): no anchors or aliases, then
/// Yams. None of these files needs them, and they are how a small file becomes a huge or endless one: a 450-byte
/// "billion laughs" theme grew to 1.7 GB, and an alias used as a mapping key (`? *a9 : x`) spun forever (issue #26).
public enum ConfigYAML {
    /// Why `text` is refused before it is parsed (an anchor `&name` or alias `*name` where a node starts, outside
    /// quotes and comments), or nil.
    public static func refusal(_ text: String) -> String? {
        var quote: Character?
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let chars = Array(line)
            var i = 0
            while i < chars.count {
                let c = chars[i], previous: Character = i == 0 ? " " : chars[i - 1]
                i += 1
                if let q = quote {
                    if c == "\\" && q == "\"" { i += 1; continue }
                    if c == q {
                        if q == "'" && i < chars.count && chars[i] == "'" { i += 1; continue }  // '' inside '…'
                        quote = nil
                    }
                    continue
                }
                let nodeStart = previous == " " || previous == "\t" || "[{,".contains(previous)
                if c == "#" && (previous == " " || previous == "\t") { break }  // a comment (line start counts as a space)
                if nodeStart && (c == "\"" || c == "'") { quote = c; continue }
                if nodeStart && (c == "&" || c == "*") && i < chars.count && !chars[i].isWhitespace {
                    return "YAML \(c == "&" ? "anchors" : "aliases") are not accepted (line \(number + 1))"
                }
            }
        }
        return nil
    }

    public struct Refused: Error, CustomStringConvertible { public let description: String }

    /// The document's node, after `refusal`.
    public static func compose(_ text: String) throws -> Node? {
        if let reason = refusal(text) { throw Refused(description: reason) }
        return try Yams.compose(yaml: text)
    }

    /// The document as Swift values (mappings, sequences, scalars), after `refusal` and `complexKey`.
    public static func load(_ text: String) throws -> Any? {
        guard let node = try compose(text) else { return nil }
        if let reason = complexKey(in: node) { throw Refused(description: reason) }
        return node.any
    }

    /// Why a mapping in `node` cannot become a Swift dictionary — a key that is itself a mapping or a sequence
    /// (`? {a: b} : c`, `? - x : y`) — or nil. Yams turns every key into a String by force and traps on such a
    /// key (the `yaml` fuzz harness found it); no file fracview reads needs one.
    static func complexKey(in node: Node) -> String? {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard case .scalar = key else {
                    let kind: String
                    switch key {
                    case .mapping: kind = "a mapping"
                    case .sequence: kind = "a sequence"
                    default: kind = "an alias"
                    }
                    return "YAML mapping keys must be plain values, not \(kind) (line \(key.mark.map { String($0.line) } ?? "?"))"
                }
                if let reason = complexKey(in: value) { return reason }
            }
            return nil
        case .sequence(let sequence):
            for item in sequence { if let reason = complexKey(in: item) { return reason } }
            return nil
        default:
            return nil
        }
    }
}
