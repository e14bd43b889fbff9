import Audit
import Datasets
import Foundation

/// `YOLODataset.open` on a one-image dataset whose data.yaml and label file come from the input (split at its
/// first NUL byte), then the audit summary of its cases.
enum DatasetHarness {
    /// A 1×1 grey PNG: the image is listed, never decoded, by `open`.
    static let png: [UInt8] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00, 0x0A, 0x49,
        0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x48, 0xAF, 0xA4, 0x71, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]

    static let root: String = {
        let root = Scratch.directory + "/dataset"
        for dir in ["test/images", "test/labels"] {
            try? FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: root + "/test/images/x.png", contents: Data(png))
        return root
    }()

    static func run(_ bytes: [UInt8]) {
        let cut = bytes.firstIndex(of: 0) ?? bytes.count
        FileManager.default.createFile(atPath: root + "/data.yaml", contents: Data(bytes[..<cut]))
        FileManager.default.createFile(atPath: root + "/test/labels/x.txt",
                                       contents: Data(cut < bytes.count ? bytes[(cut + 1)...] : []))
        guard let ds = try? YOLODataset.open(root: root), let cases = try? ds.cases(split: "test") else { return }
        _ = AuditSummary(cases: cases, split: "test", labelProblems: ds.splitProblems["test"]?.count ?? 0)
    }
}
