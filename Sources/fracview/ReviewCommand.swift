// Placeholder (owned by the tui work): replaced by the real command.
import ArgumentParser

struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "review", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview review is not implemented yet") }
}
