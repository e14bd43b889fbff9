import Foundation

/// The one way fracview writes a file: a temporary file in the same folder, written and fsynced, renamed over the
/// target, then the folder fsynced. A reader sees the old content or the new, never half; a failure leaves the old
/// file untouched; and once `write` returns, the new file survives a power cut.
public enum AtomicFile {
    /// Why a write failed, in one line ("the folder … does not exist", "no space left on device", …).
    public struct Failure: OneLineError {
        public let reason: String
        public init(reason: String) { self.reason = reason }
        public var message: String { reason }
    }

    ///
    /// What the target may be (issue #26 §12; docs/reliability.md):
    /// - a regular file, or nothing: replaced atomically as above;
    /// - a symbolic link: the file it points to is replaced atomically, and the link stays a link;
    /// - a character device or a FIFO (`-o /dev/null`, `-o /dev/stdout`, a named pipe): written to directly, as a
    ///   shell redirection does; renaming over it would replace a system device with a regular file;
    /// - a directory, a block device or a socket: refused.
    public static func write(_ data: Data, to path: String) throws { try write(data, to: path, links: 0) }

    private static func write(_ data: Data, to path: String, links: Int) throws {
        switch FileKind.of(path) {  // follows links: what the path leads to
        case .characterDevice?, .fifo?: return try writeInPlace(data, to: path)
        case let kind? where kind == .blockDevice || kind == .socket: throw Failure(reason: "it is \(kind.described)")
        default: break
        }
        // A link is followed to the file it names, which is the one replaced.
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { link in
            link.hasPrefix("/") ? link : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(link).path
        }
        if let target, target != path {
            guard links < 8 else { throw Failure(reason: "too many levels of symbolic links") }
            return try write(data, to: target, links: links + 1)
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(reason: "the folder \(directory) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure(reason: "it is a directory")
        }
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(reason: errnoReason()) }
        var failure = writeAll(data, to: fd)
        if failure == nil && fsync(fd) != 0 { failure = errnoReason() }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = errnoReason() }
        if let failure {
            unlink(temporary)
            throw Failure(reason: failure)
        }
        // The rename itself is durable only once the folder's entry is on disk.
        let dirFD = open(directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// A device or FIFO: opened for writing (never created or truncated) and written through.
    private static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: errnoReason()) }
        defer { close(fd) }
        if let failure = writeAll(data, to: fd) { throw Failure(reason: failure) }
    }

    /// Writes every byte (retrying short and interrupted writes); the failure's reason, or nil.
    private static func writeAll(_ data: Data, to fd: Int32) -> String? {
        data.withUnsafeBytes { raw -> String? in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errnoReason()
                }
                offset += n
            }
            return nil
        }
    }

    /// Creates the folder first (a manifest or report written to a new place).
    public static func write(_ data: Data, to path: String, creatingFolder: Bool) throws {
        if creatingFolder {
            try? FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                     withIntermediateDirectories: true)
        }
        try write(data, to: path)
    }

    private static func errnoReason() -> String {
        switch errno {
        case EACCES, EPERM: return "permission denied"
        case ENOSPC: return "no space left on device"
        case EROFS: return "read-only file system"
        default: return String(cString: strerror(errno)).lowercased()
        }
    }
}
