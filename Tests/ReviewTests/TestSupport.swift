import Foundation
import XCTest

/// Repository paths, found from this file (never the working directory).
enum RepoPaths {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sample = root.appendingPathComponent("samples/hbfmid-test").path
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/review").path
    /// The shared real dataset, or nil (tests then skip): $FRACVIEW_DATASETS/hbfmid, else shared/datasets/hbfmid
    /// beside the repository (../shared), or beside a folder above it (a git worktree's checkout).
    static var realDataset: String? {
        var bases: [String] = []
        if let env = ProcessInfo.processInfo.environment["FRACVIEW_DATASETS"] { bases.append(env) }
        var dir = root
        for _ in 0..<3 {
            dir = dir.deletingLastPathComponent()
            bases.append(dir.appendingPathComponent("shared/datasets").path)
        }
        return bases.map { $0 + "/hbfmid" }.first { FileManager.default.fileExists(atPath: $0 + "/data.yaml") }
    }
}

/// A scratch directory removed at the end of the test.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "fracview-review-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) { write(relative, Data(text.utf8)) }
    func write(_ relative: String, _ data: Data) {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! data.write(to: url)
    }
    func mkdir(_ relative: String) {
        try! FileManager.default.createDirectory(atPath: path + "/" + relative, withIntermediateDirectories: true)
    }
}

let tenClassesYAML = """
nc: 10
names: ['Comminuted', 'Greenstick', 'Healthy', 'Linear', 'Oblique Displaced', 'Oblique', 'Segmental', 'Spiral', 'Transverse Displaced', 'Transverse']
"""
