import Foundation
@testable import Imaging
import Reports
import XCTest

/// `fracview gradcam` end to end: the built executable (beside this test bundle), the engine's tiny
/// fixture model, a bundled X-ray. The build always makes the executable and the repository always has the model,
/// so either missing fails the test (issue #23: no skip hides a failure).
final class GradcamCommandTests: XCTestCase {
    /// What the build or the repository always provides, missing: thrown, so the test fails with the reason.
    struct Missing: Error, CustomStringConvertible { let description: String }

    func executable() throws -> URL {
        let bundleDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("fracview")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        // Loudly: a test that skips for want of what the build always makes has stopped testing.
        throw Missing(description: "fracview executable not built beside the tests (\(bundleDirectory.path)): run scripts/test.sh")
    }

    func weights() throws -> String {
        let path = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/engine/model_tiny_b0.safetensors").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "the committed engine fixture \(path) is missing")
        }
        return path
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["FRACVIEW_WEIGHTS"] = nil
        process.environment = environment
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testWritesTheThreePanelFigure() throws {
        let weights = try weights()
        let image = try XCTUnwrap(Fixtures.sampleImages().first).path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("gradcam-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try run(["gradcam", "--weights", weights, image, "-o", output, "--panel-size", "200"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix(output + ": "), result.stdout)
        let figure = try ImageDecoder.decode(path: output)
        XCTAssertEqual(figure.width, 2 * 16 + 3 * 200 + 2 * 16)
        // The first panel is the X-ray itself (640×640 fitted to 200×200), below the title.
        let shown = try ImageDecoder.decode(path: image).fitted(maxWidth: 200, maxHeight: 200)
        // The title is drawn at scale 2 when the class name fits, else 1: the image starts below it.
        let tops = [1, 2].map { 16 + Canvas.lineHeight(scale: $0) + 8 }
        let top = try XCTUnwrap(tops.first { t in
            (0..<200).allSatisfy { figure.pixel(x: 16 + $0, y: t + 100) == shown.pixel(x: $0, y: 100) }
        }, "the first panel is not the fitted X-ray")
        // The overlay panel differs from the original (heat was blended in).
        XCTAssertFalse(figure.pixel(x: 16 + 216 + 100, y: top + 100) == shown.pixel(x: 100, y: 100)
                       && figure.pixel(x: 16 + 216 + 10, y: top + 10) == shown.pixel(x: 10, y: 10))
    }

    /// With the shipped model (classifiers and localisers), the figure carries the localiser's dashed box on the
    /// original and the CAM panel, and its score under the original.
    func testTheShippedModelsBoxIsInTheFigure() throws {
        let weights = Fixtures.repoRoot.appendingPathComponent("weights/fracture-classifier").path
        let image = try XCTUnwrap(Fixtures.sampleImages().first).path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("gradcam-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try run(["gradcam", "--weights", weights, image, "-o", output, "--panel-size", "200"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let figure = try ImageDecoder.decode(path: output)
        func boxPixels(from x0: Int) -> Int {
            var n = 0
            for y in 0..<figure.height { for x in x0..<(x0 + 200) where figure.pixel(x: x, y: y) == GradcamFigure.modelBoxColor { n += 1 } }
            return n
        }
        XCTAssertGreaterThan(boxPixels(from: 16), 40, "the model's box on the original")
        XCTAssertGreaterThan(boxPixels(from: 16 + 216), 40, "and on the CAM panel, in the same place")
        XCTAssertEqual(boxPixels(from: 16 + 2 * 216), 0, "not on the attention map")
    }

    func testErrorsAreOneLineAndExitNonZero() throws {
        let weights = try weights()
        let image = try XCTUnwrap(Fixtures.sampleImages().first).path
        var cases: [([String], String)] = [
            (["gradcam", "--weights", weights, "/nonexistent/x.jpg", "-o", "/tmp/x.png"], "no such file"),
            (["gradcam", "--weights", weights, Fixtures.url("decode/truncated.jpg").path, "-o", "/tmp/x.png"], "truncated"),
            (["gradcam", "--weights", weights, image, "-o", "/nonexistent-dir/x.png"], "does not exist"),
            (["gradcam", "--weights", Fixtures.url("decode/rgb8.png").path, image, "-o", "/tmp/x.png"], "rgb8.png"),
        ]
        let shipped = ["weights/fracture-classifier", "weights/fracture-classifier.safetensors"]
            .map { Fixtures.repoRoot.appendingPathComponent($0).path }
        if !shipped.contains(where: { FileManager.default.fileExists(atPath: $0) }) {
            cases.append((["gradcam", image, "-o", "/tmp/x.png"], "no default model"))
        }
        for (arguments, expected) in cases {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 1, arguments.joined(separator: " "))
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), "\(result.stderr) should mention \(expected)")
        }
    }
}
