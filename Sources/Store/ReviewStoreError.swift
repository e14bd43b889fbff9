import Basics
import Foundation

/// Why the review database can't be used; `description` is one line for the user.
public struct ReviewStoreError: OneLineError, LocalizedError, Equatable {
    public let message: String
    /// The store's server could not be reached: nothing was written (or, for a lost commit, see the message).
    public let connectionLost: Bool
    public init(_ message: String, connectionLost: Bool = false) { self.message = message; self.connectionLost = connectionLost }
    public var errorDescription: String? { description }
}
