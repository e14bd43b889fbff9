// Placeholder (owned by the engine work): replaced by the real command.
import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview bench is not implemented yet") }
}
