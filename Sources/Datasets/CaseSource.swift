import Foundation
import Imaging

/// Where a review's cases come from: their references (key, split, truth, boxes, display name) and one guarded way
/// to their bytes. A dataset folder reads files; a PACS downloads them first (the PACS module's source), so readers
/// ask the source, never the file system.
public protocol CaseSource: AnyObject, Sendable {
    var cases: [DatasetCase] { get }
    /// The case's bytes through the guarded reader (a regular file of at most `ImageDecoder.maxFileBytes`), waiting
    /// for them when they are still on their way; the file they were read from, for DCMTK (it reads files).
    /// Throws an `ImageError` whose reason the screen shows.
    func bytes(of index: Int) throws -> (data: Data, file: String)
    /// The reviewer is at `index`: a source that fetches bytes fetches those next.
    func focus(_ index: Int)
    /// Downloads finished (ready or failed), of all, and failed; nil for a source with nothing to fetch.
    var transferProgress: (done: Int, total: Int, failed: Int)? { get }
}

extension CaseSource {
    public var transferProgress: (done: Int, total: Int, failed: Int)? { nil }
}

/// Cases whose bytes are files on this machine: a YOLO dataset's split or a plain folder of images.
public final class FolderCaseSource: CaseSource {
    public let cases: [DatasetCase]
    public init(cases: [DatasetCase]) { self.cases = cases }

    /// Cases known only by their paths (a list of files).
    public convenience init(paths: [String]) {
        self.init(cases: paths.map {
            DatasetCase(imagePath: $0, relativePath: $0, split: "", truth: .unlabelled(reason: "no label"), classesInLabelFile: [])
        })
    }

    public func bytes(of index: Int) throws -> (data: Data, file: String) {
        guard cases.indices.contains(index) else { throw ImageError(path: "case \(index)", reason: "no such case") }
        let path = cases[index].imagePath
        return (try ImageDecoder.readFile(path), path)
    }

    public func focus(_ index: Int) {}
}
