import Basics
import Foundation
import Imaging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists a directory with opendir/readdir so that file names that are not valid UTF-8 are seen (and reported)
/// instead of crashing or silently vanishing, as Foundation may do with such names.
public enum DirectoryListing {
    struct Entry {
        /// The file name, when its bytes are valid UTF-8.
        let name: String?
        /// The raw bytes of the name, for reporting undecodable names.
        let bytes: [UInt8]
    }

    /// Entries of `path` (without "." and ".."), or nil if it is not a readable directory.
    static func entries(of path: String) -> [Entry]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var result: [Entry] = []
        while let entry = readdir(dir) {
            let bytes: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            result.append(Entry(name: String(validating: bytes, as: UTF8.self), bytes: bytes))
        }
        return result
    }

    /// A printable rendering of an undecodable name: ASCII kept, other bytes as \xNN.
    static func escaped(_ bytes: [UInt8]) -> String {
        bytes.map { b in (0x20..<0x7F).contains(b) ? String(UnicodeScalar(b)) : String(format: "\\x%02X", b) }.joined()
    }

    /// The bytes of a regular file of at most `maxBytes` (nil otherwise, or when it cannot be read). Plain POSIX
    /// reads: Foundation's `FileManager.contents(atPath:)` leaks a 4 KiB buffer per call on this toolchain, which
    /// the fuzzers found as an out-of-memory after half a million dataset opens.
    public static func readFile(_ path: String, maxBytes: Int) -> Data? {
        guard let size = fileSize(path), size <= maxBytes else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return Data(bytes[0..<done])
    }

    /// True for a regular file, links followed. A FIFO or device would block or never end when read.
    public static func isRegularFile(_ path: String) -> Bool { FileKind.of(path) == .regular }

    /// The size of a regular file (links followed); nil if it is not one.
    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
