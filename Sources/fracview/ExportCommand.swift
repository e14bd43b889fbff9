// Placeholder (owned by the tui work): replaced by the real command.
import ArgumentParser

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview export is not implemented yet") }
}
