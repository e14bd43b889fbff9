// Placeholder (owned by the engine work): replaced by the real command.
import ArgumentParser

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview predict is not implemented yet") }
}
