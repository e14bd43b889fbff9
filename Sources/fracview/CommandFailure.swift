import Basics
import Model
/// The one error type of the commands: a line for the user. ArgumentParser prints it as "Error: …" and exits 1
/// (through `Fracview.main`, which sanitises it).
struct CommandFailure: OneLineError {
    let message: String
    init(_ message: String) { self.message = message }
}
