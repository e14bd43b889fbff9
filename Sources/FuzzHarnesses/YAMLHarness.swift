import Datasets
import Foundation
import Terminal

/// The YAML surfaces other than data.yaml (the dataset harness has that): the one reader (`ConfigYAML`, which
/// refuses anchors and aliases), a theme file and a keys.yaml remapping, on the same text. Issue #26 found an alias
/// bomb (1.7 GB from 450 bytes) and an alias used as a key (a hang) here.
enum YAMLHarness {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? ConfigYAML.load(text)
        _ = try? Theme.parse(yaml: text, file: "fuzz.yaml", defaultName: "fuzz")
        _ = try? KeyTable.standard.remapped(yaml: text, source: "keys.yaml")
    }
}
