import Basics
import Foundation
@testable import Imaging
import XCTest

/// The one file writer (CSV, PNG, manifests, evaluate's tables): replace whole or not at all, no temporary left.
final class AtomicFileTests: XCTestCase {
    func testReplacesWholeAndLeavesNoTemporaryFiles() throws {
        let dir = NSTemporaryDirectory() + "fracview-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.csv"
        try AtomicFile.write(Data("old".utf8), to: path)
        try AtomicFile.write(Data("new content".utf8), to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new content")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.csv"])
        // A failure (the target is a folder; the folder is missing) says why in one line and changes nothing.
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: dir + "/sub")) {
            XCTAssertEqual("\($0)", "it is a directory")
        }
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: dir + "/missing/out.csv")) {
            XCTAssertEqual("\($0)", "the folder \(dir)/missing does not exist")
        }
        try AtomicFile.write(Data("made".utf8), to: dir + "/new/deeper/out.csv", creatingFolder: true)
        XCTAssertEqual(try String(contentsOfFile: dir + "/new/deeper/out.csv", encoding: .utf8), "made")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new content")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["out.csv", "sub", "new"])
    }

    /// Issue #26 §12: a character device or a FIFO is written through, never replaced by a regular file; a symbolic
    /// link keeps being a link, and the file it names is replaced.
    func testDevicesFIFOsAndLinks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func type(_ path: String) -> mode_t { var st = stat(); lstat(path, &st); return st.st_mode & S_IFMT }

        // A private node like /dev/null (1, 3): root only, which the tests and CI are.
        let null = dir + "/null"
        XCTAssertEqual(mknod(null, S_IFCHR | 0o666, dev_t(1 << 8 | 3)  /* glibc makedev(1, 3) */), 0, "mknod needs root: \(String(cString: strerror(errno)))")
        try AtomicFile.write(Data("x".utf8), to: null)
        XCTAssertEqual(type(null), S_IFCHR, "still a device")

        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        final class Received: @unchecked Sendable { var data = Data() }
        let received = Received()
        let reader = Thread { received.data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data() }
        reader.start()
        try AtomicFile.write(Data("through the pipe".utf8), to: fifo)
        while !reader.isFinished { usleep(1000) }
        XCTAssertEqual(String(decoding: received.data, as: UTF8.self), "through the pipe")
        XCTAssertEqual(type(fifo), S_IFIFO, "still a FIFO")

        let file = dir + "/real.csv", link = dir + "/latest.csv"
        try Data("old".utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.csv")
        try AtomicFile.write(Data("new".utf8), to: link)
        XCTAssertEqual(type(link), S_IFLNK, "the link stays a link")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "new")

        let a = dir + "/a", b = dir + "/b"
        try FileManager.default.createSymbolicLink(atPath: a, withDestinationPath: b)
        try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: a)
        XCTAssertThrowsError(try AtomicFile.write(Data(), to: a)) { XCTAssertTrue("\($0)".contains("symbolic links"), "\($0)") }
    }
}
