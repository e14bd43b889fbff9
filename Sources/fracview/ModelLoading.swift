import Foundation
import Imaging
import Model
import Review

/// Shared by the commands that take `--weights`: the explicit file, else the default one, else a clear message.
enum ModelLoading {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func weightsPath(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        guard let found = DefaultWeights.locate() else { throw Failure(description: DefaultWeights.missingMessage) }
        return found
    }

    /// The model `--weights` names: a file, or a directory of fold members.
    static func loadEnsemble(_ explicit: String?) throws -> ModelEnsemble {
        let path = try weightsPath(explicit)
        do {
            return try ModelEnsemble(path: path)
        } catch {
            throw Failure(description: TerminalSafeText.clean("cannot load weights: \(error)"))
        }
    }


    /// Prints a one-line error to stderr and exits 1 (no stack trace, no usage text).
    static func exitWithError(_ error: Error) -> Never {
        Console.error("fracview: \(error)")
        exit(1)
    }
}

/// Minimal JSON encoding for line-oriented output with stable key order (JSONSerialization reorders keys).
enum JSONLine {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func number(_ v: Float) -> String {
        guard v.isFinite else { return "null" }
        return "\(v)"
    }

    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return String(format: "%.6g", v)
    }

    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func map(_ m: FeatureMap) -> String {
        "[" + (0..<m.height).map { y in
            "[" + (0..<m.width).map { x in number(m.values[y * m.width + x]) }.joined(separator: ", ") + "]"
        }.joined(separator: ", ") + "]"
    }
}
