import Basics
import Foundation
@testable import Reports
import XCTest

/// The shared basics: one lock wrapper, every escape sequence through `Escape`, and module boundaries that keep the
/// engine out of the data modules.
final class BasicsTests: XCTestCase {
    func testLockedCountsEveryIncrementFromManyThreads() {
        let counter = Locked(0)
        let slots = Locked([Int](repeating: -1, count: 1000))
        DispatchQueue.concurrentPerform(iterations: 1000) { i in
            counter.withLock { $0 += 1 }
            slots.withLock { $0[i] = i }
        }
        XCTAssertEqual(counter.current, 1000)
        XCTAssertEqual(slots.current, Array(0..<1000))
    }

    func testProgressBarRedrawsThroughEscapeOnATerminalAndPrintsLinesElsewhere() {
        let onTerminal = ProgressBar.text("decoding", 5, 10, width: 10, interactive: true)
        XCTAssertTrue(onTerminal.hasPrefix(Escape.rewriteLine), onTerminal.debugDescription)
        XCTAssertTrue(onTerminal.hasSuffix("█████░░░░░ 5/10"), onTerminal)
        let logged = ProgressBar.text("decoding", 10, 10, width: 10, interactive: false)
        XCTAssertFalse(logged.contains("\u{1B}"), "no escapes into a log file")
        XCTAssertTrue(logged.hasSuffix("██████████ 10/10\n"))
        // A worker that overshoots never makes a bar longer than its width.
        XCTAssertTrue(ProgressBar.text("x", 12, 10, width: 10, interactive: false).contains("██████████ 12/10"))
    }

    /// No source file writes or matches a raw escape sequence itself: they all go through `Escape` (btop style), so
    /// what fracview sends a terminal can be read in one file.
    func testNoRawEscapeSequencesOutsideEscapeSwift() throws {
        let sources = RepoPaths.root.appendingPathComponent("Sources")
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && $0 != "Basics/Escape.swift" }
        XCTAssertGreaterThan(files.count, 100)
        let raw = ["\\u{1B}[", "\\u{1b}[", "\\u{9B}", "\\e[", "\\u{001B}["]
        for file in files {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for needle in raw { XCTAssertFalse(text.contains(needle), "\(file) writes a raw escape (\(needle))") }
        }
    }

    /// The data modules must not pull the engine (and OpenBLAS) in: Datasets and Imaging depend on Basics, not Model.
    func testDataModulesDoNotDependOnTheModel() throws {
        let manifest = try String(contentsOf: RepoPaths.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        for target in ["Imaging", "Datasets", "Basics"] {
            let line = try XCTUnwrap(manifest.split(separator: "\n").first { $0.contains(".target(name: \"\(target)\"") })
            XCTAssertFalse(line.contains("\"Model\"") || line.contains("\"Engine\""), "\(target): \(line)")
        }
        for module in ["Imaging", "Datasets", "Basics"] {
            let folder = RepoPaths.root.appendingPathComponent("Sources/\(module)").path
            for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
                XCTAssertFalse(text.contains("import Model") || text.contains("import Engine"), "\(module)/\(file)")
            }
        }
    }
}
