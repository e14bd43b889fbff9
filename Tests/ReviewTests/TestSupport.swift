import Foundation
import XCTest

/// Repository paths, found from this file (never the working directory).
enum RepoPaths {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sample = root.appendingPathComponent("samples/hbfmid-test").path
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/review").path
    /// The shared real dataset, or nil (tests then skip).
    static var realDataset: String? {
        let base = ProcessInfo.processInfo.environment["FRACVIEW_DATASETS"]
            ?? root.deletingLastPathComponent().appendingPathComponent("shared/datasets").path
        let path = base + "/hbfmid"
        return FileManager.default.fileExists(atPath: path + "/data.yaml") ? path : nil
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
