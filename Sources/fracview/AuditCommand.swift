// Placeholder (owned by the review work): replaced by the real command.
import ArgumentParser

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview audit is not implemented yet") }
}
