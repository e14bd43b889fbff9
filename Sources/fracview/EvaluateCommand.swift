// Placeholder (owned by the review work): replaced by the real command.
import ArgumentParser

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview evaluate is not implemented yet") }
}
