import Foundation

/// What a path leads to, links followed: the one place fracview asks, because a FIFO blocks a reader, and a device
/// must never be replaced by a writer (`AtomicFile`) nor opened as a database (`ReviewStore`).
public enum FileKind: Equatable, Sendable {
    case regular, directory, characterDevice, blockDevice, fifo, socket, other

    /// nil when the path leads nowhere (or to a dangling link).
    public static func of(_ path: String) -> FileKind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        default: return .other
        }
    }

    /// For messages: "a FIFO", "a device", …
    public var described: String {
        switch self {
        case .regular: return "a file"
        case .directory: return "a directory"
        case .characterDevice: return "a device"
        case .blockDevice: return "a block device"
        case .fifo: return "a FIFO"
        case .socket: return "a socket"
        case .other: return "not a regular file"
        }
    }
}
