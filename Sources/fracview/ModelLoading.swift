import Basics
import Foundation
import Imaging
import Inference
import Model

/// Shared by the commands that take `--weights`: the explicit file, else the default one, else a clear message.
enum ModelLoading {
    static func weightsPath(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        guard let found = DefaultWeights.locate() else { throw CommandFailure(DefaultWeights.missingMessage) }
        return found
    }

    /// The model `--weights` names: a file, or a directory of fold members.
    static func loadEnsemble(_ explicit: String?) throws -> ModelEnsemble {
        let path = try weightsPath(explicit)
        do {
            return try ModelEnsemble(path: path)
        } catch {
            throw CommandFailure(TerminalSafeText.clean("cannot load weights: \(error)"))
        }
    }


    /// Prints a one-line error to stderr and exits 1 (no stack trace, no usage text).
    static func exitWithError(_ error: Error) -> Never {
        Console.error("fracview: \(error)")
        exit(1)
    }
}
