import Basics
import Foundation
import GRDB
@testable import Model
@testable import Store
import XCTest

/// kill -9 of a process that is writing: every decision it acknowledged must be in the file afterwards.
/// The writer is this same test binary, re-run with a filter that selects `testChildWriter` and an environment
/// variable naming the database, so the real ReviewStore code is what gets killed mid-write.
final class StoreCrashTests: XCTestCase {
    static let childEnv = "FRACVIEW_STORE_CRASH_CHILD"

    /// The child: records decisions (and cache entries, as the inference thread does) until killed,
    /// printing "committed N" after each `record` returns.
    func testChildWriter() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childEnv] else {
            throw XCTSkip("helper for testKillNineLosesNoAcknowledgedDecision; runs only in a child process")
        }
        let store = try ReviewStore(path: path)
        let map = FeatureMap(width: 7, height: 7, values: [Float](repeating: 0.25, count: 49))
        DispatchQueue.global().async {
            for i in 0... {
                try? store.predictionCache.storePrediction(Prediction(probabilities: [1], attention: map, gradcam: map),
                                           imageHash: "h\(i)", weightsID: "w")
            }
        }
        for i in 0..<100_000 {
            try store.record(sampleDecision("case\(i).jpg", status: i % 2 == 0 ? .accepted : .flagged, note: "n\(i)"))
            if i % 7 == 6 {
                try store.undoLast(reviewer: "alice")
                try store.record(sampleDecision("case\(i).jpg", status: .relabelled, reviewerLabel: 3, note: "n\(i)"))
            }
            print("committed \(i)")
            fflush(stdout)
        }
    }

    func testKillNineLosesNoAcknowledgedDecision() throws {
        if ProcessInfo.processInfo.environment[Self.childEnv] != nil { throw XCTSkip("inside the child") }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw XCTSkip("cannot re-run the test binary")
        }
        #if !os(Linux)
        throw XCTSkip("re-running the test bundle as a child is done on Linux only")
        #else
        let dir = try makeStoreTempDir(self)
        let path = dir + "/review.sqlite"
        for round in 0..<3 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["ReviewTests.StoreCrashTests/testChildWriter"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.childEnv: path]) { $1 }
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.nullDevice
            try child.run()

            // Let it get going, then kill it at a random point of its write loop.
            var output = ""
            let handle = pipe.fileHandleForReading
            let target = 20 + Int.random(in: 0..<30)
            let deadline = Date().addingTimeInterval(120)
            while committedCount(output) < target + round * 10 && Date() < deadline {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                output += String(decoding: chunk, as: UTF8.self)
            }
            usleep(UInt32.random(in: 0..<20_000))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            output += String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "the child was killed, it did not finish")

            let acknowledged = committedNumbers(output)
            XCTAssertGreaterThan(acknowledged.count, 0, "child output: \(output.suffix(500))")
            let store = try ReviewStore(path: path)
            let rows = try store.decisions(reviewer: "alice", split: "test")
            for i in acknowledged {
                let row = rows["case\(i).jpg"]
                XCTAssertNotNil(row, "acknowledged decision \(i) lost after kill -9 (round \(round))")
                XCTAssertEqual(row?.note, "n\(i)")
                if i % 7 == 6 { XCTAssertEqual(row?.status, .relabelled) }
            }
            let check = try store.dbWriter.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            XCTAssertEqual(check, "ok")
            // The next child starts on the same file: it must open and append after a kill.
        }
        #endif
    }

    private func committedNumbers(_ output: String) -> [Int] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            line.hasPrefix("committed ") ? Int(line.dropFirst("committed ".count)) : nil
        }
    }

    private func committedCount(_ output: String) -> Int { committedNumbers(output).count }
}
