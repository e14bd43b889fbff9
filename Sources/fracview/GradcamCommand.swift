// Placeholder (owned by the imaging work): replaced by the real command.
import ArgumentParser

struct GradcamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gradcam", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("fracview gradcam is not implemented yet") }
}
