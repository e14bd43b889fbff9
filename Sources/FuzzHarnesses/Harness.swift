import Foundation

/// The parsers fuzzed by `scripts/fuzz.sh` (libFuzzer) and replayed by the FuzzTests target: each takes one input
/// and must return, whatever the bytes, without trapping, hanging or growing without bound. An error is fine;
/// that is the parser's job.
public enum Harness: String, CaseIterable, Sendable {
    /// A safetensors file: header, metadata, and the architecture config built from it.
    case weights
    /// JPEG or PNG bytes: decode, then the model-input resize.
    case image
    /// A DICOM file through DCMTK: parse, decompress, modality values, windows; then a render at another window.
    case dicom
    /// A dataset: data.yaml, a NUL byte, then one label file.
    case dataset
    /// A review database file: open (read-only and read-write), read, export, record.
    case database
    /// The terminal's byte stream into the TUI's input parser.
    case input
    /// A YAML text as a theme, a keys.yaml and through the YAML reader (anchors and aliases refused).
    case yaml
    /// A PACS's answers: a Content-Type line and a body, as multipart, DICOM JSON, a STOW answer; a netrc.
    case dicomweb

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .weights: WeightsHarness.run(bytes)
        case .image: ImageHarness.run(bytes)
        case .dicom: DicomHarness.run(bytes)
        case .dataset: DatasetHarness.run(bytes)
        case .database: DatabaseHarness.run(bytes)
        case .input: InputHarness.run(bytes)
        case .yaml: YAMLHarness.run(bytes)
        case .dicomweb: DICOMwebHarness.run(bytes)
        }
    }
}

/// A private scratch folder for harnesses that need files (the parsers under test open paths, as the app does).
enum Scratch {
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "fracview-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `bytes` to `name` in the scratch folder (replacing it) and returns the path.
    static func file(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}
