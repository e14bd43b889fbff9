import Basics
import Foundation
@testable import Imaging
@testable import Model
import XCTest

/// No human-readable output of any command carries a raw control or bidi character taken from input data:
/// names of folders and files, `--weights`, `--db`, `--theme`, `--write-split`, and the weights' own metadata.
final class OutputSafetyTests: XCTestCase {
    /// OSC 0 (title), OSC 52 (clipboard write), a cursor report request, DCS, SGR, C1 CSI, and the bidi override.
    static let evil = "\u{1B}]0;pwned\u{07}\u{1B}]52;c;cHduZWQ=\u{07}\u{1B}[6n\u{1B}P1$r\u{1B}\\\u{1B}[31m\u{9B}2J\u{202E}\u{2028}"

    static func unsafe(_ text: String) -> [String] {
        text.unicodeScalars.filter { TerminalSafeText.isUnsafe($0) && $0 != "\n" }.map { String(format: "U+%04X", $0.value) }
    }

    private func assertSafe(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try Fracview.run(args, environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
        let text = result.output
        XCTAssertEqual(Self.unsafe(text), [], "fracview \(args.joined(separator: " ")) printed:\n\(text.debugDescription)",
                       file: file, line: line)
        XCTAssertFalse(text.isEmpty, "no output at all: the test would pass vacuously", file: file, line: line)
    }

    /// The tiny model with hostile class names and architecture string.
    private func evilWeights(_ dir: String, architecture: String? = nil) throws -> String {
        let file = try SafeTensorsFile(path: RepoPaths.tinyWeights)
        var meta = file.metadata
        let names = (0..<10).map { "class\($0)" + Self.evil }
        meta["classes"] = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        if let architecture { meta["architecture"] = architecture }
        meta["note"] = Self.evil
        var writer = SafeTensorsWriter(metadata: meta)
        for e in file.entries where e.dtype.isFloat { writer.add(e.name, shape: e.shape, values: try file.floats(e.name)) }
        let path = dir + "/evil\(architecture == nil ? "" : "-arch").safetensors"
        try writer.write(to: path)
        return path
    }

    func testEveryCommandSanitisesWhatItEchoes() throws {
        let t = TempDir()
        let root = t.path + "/data" + Self.evil
        t.write("data\(Self.evil)/data.yaml", tenClassesYAML)
        let image = try Data(contentsOf: URL(fileURLWithPath: AuditTests.sampleImages[0]))
        t.write("data\(Self.evil)/test/images/x\(Self.evil).jpg", image)
        t.write("data\(Self.evil)/test/labels/x\(Self.evil).txt", "0 0.5 0.5\n") // a bad line: named in the report
        let missing = t.path + "/missing" + Self.evil

        try assertSafe(["audit", root])
        try assertSafe(["audit", missing])
        try assertSafe(["audit", root, "--write-split", missing + "/split.csv"])
        try assertSafe(["evaluate", missing, "--weights", RepoPaths.tinyWeights])
        try assertSafe(["review", missing])
        try assertSafe(["review", root, "--theme", Self.evil])
        try assertSafe(["review", root, "--graphics", Self.evil])
        try assertSafe(["review", root, "--db", missing + "/review.sqlite"])
        try assertSafe(["export", "--db", missing, "-o", t.path + "/out.csv"])
        try assertSafe(["predict", "--weights", missing, AuditTests.sampleImages[0]])
        try assertSafe(["info", "--weights", missing])
        try assertSafe(["predict", "--weights", RepoPaths.tinyWeights, root + "/test/images/x\(Self.evil).jpg", missing])
        try assertSafe(["gradcam", missing, "-o", t.path + "/g.png", "--weights", RepoPaths.tinyWeights])
        // ArgumentParser's own messages echo the argument.
        try assertSafe(["audit", root, "--folds", Self.evil])
        try assertSafe([Self.evil])

        let weights = try evilWeights(t.path)
        try assertSafe(["predict", "--weights", weights, AuditTests.sampleImages[0]])
        try assertSafe(["info", "--weights", weights])
        try assertSafe(["info", "--weights", try evilWeights(t.path, architecture: "efficientnet" + Self.evil)])
    }

    /// JSON output is data: it stays exact (JSON's own escapes), as docs/reliability.md says.
    func testJSONKeepsTheNamesExactly() throws {
        let t = TempDir()
        let weights = try evilWeights(t.path)
        let result = try Fracview.run(["predict", "--json", "--weights", weights, AuditTests.sampleImages[0]])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stdout.contains(0x1B), "JSON escapes ESC as \\u001b")
        let json = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        let predicted = try XCTUnwrap(json["predicted"] as? String)
        XCTAssertTrue(predicted.hasSuffix(Self.evil), predicted.debugDescription)
    }
}
