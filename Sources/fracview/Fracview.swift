import ArgumentParser
import Engine
import Foundation

/// `fracview` with no arguments opens the review TUI on the bundled sample.
@main
struct Fracview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fracview",
        abstract: "Review a bone-fracture X-ray classifier in the terminal.",
        version: FracviewVersion.current,
        subcommands: [ReviewCommand.self, PACSCommand.self, PredictCommand.self, GradcamCommand.self, InfoCommand.self,
                      BenchCommand.self, EvaluateCommand.self, AuditCommand.self, ExportCommand.self, AgreementCommand.self, StoreBenchCommand.self, KeysCommand.self, DecodeCommand.self],
        defaultSubcommand: ReviewCommand.self)

    /// ArgumentParser's own `main`, with its messages (which echo the arguments) through the sanitiser.
    static func main() {
        ProcessMemory.returnLargeBlocksWhenFreed()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Console.line(message) }
            } else if !message.isEmpty {
                Console.error(message)
            }
            Foundation.exit(code.rawValue)
        }
    }
}
