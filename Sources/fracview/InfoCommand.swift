// Placeholder (owned by the engine work): replaced by the real command.
import ArgumentParser

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview info is not implemented yet") }
}
