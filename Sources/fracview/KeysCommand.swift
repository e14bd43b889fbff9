import ArgumentParser
import Terminal

/// `fracview keys`: the review screen's keys, after the user's keys.yaml.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List the review screen's keys (with your keys.yaml applied).")

    @Flag(help: "Print docs/keys.md (the standard table, as Markdown).")
    var markdown = false

    func run() throws {
        if markdown {
            Console.line(KeyTable.standard.markdown(), terminator: "")
            return
        }
        let path = KeyTable.userFile()
        let table = try KeyTable.loading(path)
        Console.line(path.map { "keys from \($0)" } ?? "standard keys (remap them in ~/.config/fracview/keys.yaml)")
        for group in KeyTable.groups {
            Console.line("\n\(group)")
            for b in table.bindings where b.group == group {
                let keys = b.action == .relabel ? "0-9" : b.keys.map(\.name).joined(separator: " ")
                Console.line("  \(keys.padding(toLength: 16, withPad: " ", startingAt: 0)) \(b.action.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(b.help)")
            }
        }
    }
}
