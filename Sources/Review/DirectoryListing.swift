import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists a directory with opendir/readdir so that file names that are not valid UTF-8 are seen (and reported)
/// instead of crashing or silently vanishing, as Foundation may do with such names.
enum DirectoryListing {
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
            result.append(Entry(name: String(validatingUTF8Bytes: bytes), bytes: bytes))
        }
        return result
    }

    /// A printable rendering of an undecodable name: ASCII kept, other bytes as \xNN.
    static func escaped(_ bytes: [UInt8]) -> String {
        bytes.map { b in (0x20..<0x7F).contains(b) ? String(UnicodeScalar(b)) : String(format: "\\x%02X", b) }.joined()
    }

    /// True for a regular file, links followed. A FIFO or device would block or never end when read.
    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The size of a regular file (links followed); nil if it is not one.
    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}

extension String {
    /// Decodes UTF-8 bytes, returning nil (rather than repairing) when they are not valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(scalars)
    }
}
