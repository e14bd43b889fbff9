import Basics

/// Why a weights file could not be loaded. `description` is one line: the file, then the first problem found
/// (naming the tensor or metadata key when there is one).
public struct WeightsError: OneLineError {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var message: String { "\(path): \(reason)" }
}
