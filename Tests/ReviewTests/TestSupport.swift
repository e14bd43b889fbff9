import Engine
import Foundation
import XCTest

/// Repository paths, found from this file (never the working directory).
enum RepoPaths {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sample = root.appendingPathComponent("samples/hbfmid-test").path
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/review").path
    /// The engine's tiny random test model (the real architecture, random weights).
    static let tinyWeights = root.appendingPathComponent("Tests/Fixtures/engine/model_tiny_b0.safetensors").path
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

/// The `fracview` binary built beside the test bundle (`swift build --build-tests`); tests skip without it.
enum Fracview {
    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
        /// Standard output then standard error, as text.
        var output: String { String(decoding: stdout, as: UTF8.self) + stderr }
    }

    static func binary() throws -> String {
        let buildDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let path = buildDir.appendingPathComponent("fracview").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        // Under another scratch path the binary may sit in the repository's own .build.
        let fallback = RepoPaths.root.appendingPathComponent(".build/release/fracview").path
        if FileManager.default.isExecutableFile(atPath: fallback) { return fallback }
        // Loudly: a command-line test that skips is a test that silently stopped testing.
        throw MissingFromTheBuild("fracview is not built beside the tests (\(path)) nor at \(fallback): run `swift build "
                                  + "-c release -Xswiftc -enable-testing --build-tests` (scripts/test.sh does)")
    }

    /// Runs `fracview ARGS…` to completion.
    /// `executable`: run that instead (e.g. setpriv, with the binary among the arguments).
    /// `input`: written to its standard input, which is then closed (small inputs only: written before the
    /// output is read).
    static func run(_ args: [String], environment: [String: String]? = nil, executable: String? = nil,
                    input: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable ?? binary())
        process.arguments = args
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out; process.standardError = err
        if input != nil { process.standardInput = inPipe }
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(input)
            try inPipe.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
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

/// Something the build or the repository always provides is missing: thrown, so that the test fails with this
/// reason (a skip would hide it).
struct MissingFromTheBuild: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The two-member ensemble fixture's expected.json (scripts/fixtures/make_ensemble_fixture.py): PyTorch's held-out
/// means per image, and each image's training signature.
struct EnsembleFixtureExpected: Decodable {
    struct Image: Decodable {
        let members: [Int]
        let seen_in_training: Bool
        let probabilities: [Double]
        let attention: [Double]
        let gradcam: [Double]
        let signature: String
    }
    let images: [String: Image]
    let tolerance: Double
}
