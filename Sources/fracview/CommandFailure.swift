/// The one error type of the commands: a line for the user. ArgumentParser prints it as "Error: …" and exits 1
/// (through `Fracview.main`, which sanitises it).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
