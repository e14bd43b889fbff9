/// The one pattern of fracview's errors: each says what went wrong in one line for the user (the file, tensor or
/// key first when there is one). A library's multi-line text is folded into that line; printing sanitises it.
public protocol OneLineError: Error, CustomStringConvertible, Sendable {
    var message: String { get }
}

extension OneLineError {
    public var description: String { message.split(whereSeparator: \.isNewline).joined(separator: " ") }
}
