import ArgumentParser

/// `fracview` with no arguments opens the review TUI on the bundled sample.
@main
struct Fracview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fracview",
        abstract: "Review a bone-fracture X-ray classifier in the terminal.",
        subcommands: [ReviewCommand.self, PredictCommand.self, GradcamCommand.self, InfoCommand.self,
                      BenchCommand.self, EvaluateCommand.self, AuditCommand.self, ExportCommand.self],
        defaultSubcommand: ReviewCommand.self)
}
