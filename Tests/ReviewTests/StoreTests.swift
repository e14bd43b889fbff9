import Basics
import Foundation
import GRDB
@testable import Model
@testable import Store
import XCTest

final class StoreTests: XCTestCase {
    private func openStore() throws -> (ReviewStore, String) {
        let path = try makeStoreTempDir(self) + "/review.sqlite"
        return (try ReviewStore(path: path), path)
    }

    func testDecisionRoundTripKeepsEveryField() throws {
        let (store, _) = try openStore()
        let decision = sampleDecision("test/images/x,\"y\".jpg", status: .relabelled, truth: nil, predicted: 8,
                                      reviewerLabel: 0, note: "line1\nline2, ünïcödé")
        try store.record(decision)
        let back = try store.decisions(reviewer: "alice", split: "test")
        XCTAssertEqual(back.count, 1)
        XCTAssertEqual(back[decision.caseID], decision)
        XCTAssertEqual(try store.allDecisions(reviewer: nil), [decision])
    }

    func testProbabilitiesRoundTripExactly() throws {
        let (store, _) = try openStore()
        var decision = sampleDecision()
        decision.probabilities = [0.1, 1e-9, 0.333333343, Float.leastNonzeroMagnitude, 1, 0, .nan]
        try store.record(decision)
        let back = try XCTUnwrap(try store.decisions(reviewer: "alice", split: "test")[decision.caseID])
        XCTAssertEqual(back.probabilities.count, 7)
        for (a, b) in zip(back.probabilities.dropLast(), decision.probabilities.dropLast()) {
            XCTAssertEqual(a.bitPattern, b.bitPattern)
        }
        XCTAssertTrue(back.probabilities.last!.isNaN)

        var empty = sampleDecision("none.jpg", predicted: nil)
        empty.probabilities = []
        try store.record(empty)
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test")["none.jpg"], empty)
    }

    func testRecordReplacesTheSameCase() throws {
        let (store, _) = try openStore()
        try store.record(sampleDecision(status: .flagged))
        try store.record(sampleDecision(status: .relabelled, reviewerLabel: 5, note: "oblique", at: 1_764_000_100))
        let all = try store.allDecisions(reviewer: "alice")
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(all.first?.status, .relabelled)
        XCTAssertEqual(all.first?.reviewerLabel, 5)
        XCTAssertEqual(all.first?.note, "oblique")
    }

    func testRowsAreKeyedByReviewerAndSplit() throws {
        let (store, _) = try openStore()
        try store.record(sampleDecision(reviewer: "alice", status: .accepted))
        try store.record(sampleDecision(reviewer: "bob", status: .flagged))
        try store.record(sampleDecision(split: "valid", reviewer: "alice", status: .flagged))
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").values.map(\.status), [.accepted])
        XCTAssertEqual(try store.decisions(reviewer: "bob", split: "test").values.map(\.status), [.flagged])
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "valid").values.map(\.status), [.flagged])
        XCTAssertEqual(try store.allDecisions(reviewer: "alice").count, 2)
        XCTAssertEqual(try store.allDecisions(reviewer: nil).count, 3)
        XCTAssertEqual(try store.reviewers(), ["alice", "bob"])
        XCTAssertTrue(try store.decisions(reviewer: "carol", split: "test").isEmpty)
    }

    func testAllDecisionsAreOldestFirst() throws {
        let (store, _) = try openStore()
        try store.record(sampleDecision("c.jpg", at: 300))
        try store.record(sampleDecision("a.jpg", at: 100))
        try store.record(sampleDecision("b.jpg", at: 200))
        XCTAssertEqual(try store.allDecisions(reviewer: nil).map(\.caseID), ["a.jpg", "b.jpg", "c.jpg"])
    }

    func testUndoRestoresThePreviousDecisionThenNothing() throws {
        let (store, path) = try openStore()
        let flag = sampleDecision(status: .flagged, note: "looks oblique")
        let relabel = sampleDecision(status: .relabelled, reviewerLabel: 5, note: "oblique", at: 1_764_000_200)
        try store.record(flag)
        try store.record(relabel)
        try store.record(sampleDecision("other.jpg", reviewer: "bob"))

        // Alice's undo skips Bob's newer decision and reverts the relabel to the flag.
        XCTAssertEqual(try store.undoLast(reviewer: "alice"), flag.caseID)
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test")[flag.caseID], flag)
        XCTAssertEqual(try store.undoDepth(reviewer: "alice"), 1)

        // Undo survives reopening: it was committed.
        let reopened = try ReviewStore(path: path)
        XCTAssertEqual(try reopened.decisions(reviewer: "alice", split: "test")[flag.caseID], flag)

        XCTAssertEqual(try reopened.undoLast(reviewer: "alice"), flag.caseID)
        XCTAssertTrue(try reopened.decisions(reviewer: "alice", split: "test").isEmpty)
        XCTAssertNil(try reopened.undoLast(reviewer: "alice"))
        XCTAssertEqual(try reopened.allDecisions(reviewer: "bob").count, 1, "Bob's decision is untouched")
    }

    func testSessionInfo() throws {
        let (store, path) = try openStore()
        XCTAssertEqual(try store.classes(), [])
        XCTAssertNil(try store.datasetRoot())
        try store.setSessionInfo(datasetRoot: "/data/a", classes: ["x"])
        try store.setSessionInfo(datasetRoot: "/data/hbfmid", classes: sampleClasses)
        let reopened = try ReviewStore(path: path)
        XCTAssertEqual(try reopened.classes(), sampleClasses)
        XCTAssertEqual(try reopened.datasetRoot(), "/data/hbfmid")
    }

    func testWALAndFullSynchronous() throws {
        let (store, path) = try openStore()
        try store.record(sampleDecision())
        let mode = try store.dbWriter.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
        let writerSync = try store.dbWriter.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        XCTAssertEqual(writerSync, 2, "synchronous = FULL on the writer connection")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    func testASecondConnectionSeesEachWriteAtOnce() throws {
        let (writer, path) = try openStore()
        let reader = try ReviewStore(path: path)
        let readOnly = try ReviewStore(path: path, readOnly: true)
        for i in 0..<20 {
            try writer.record(sampleDecision("case\(i).jpg"))
            XCTAssertEqual(try reader.allDecisions(reviewer: "alice").count, i + 1)
            XCTAssertEqual(try readOnly.allDecisions(reviewer: nil).count, i + 1)
        }
        try writer.undoLast(reviewer: "alice")
        XCTAssertEqual(try reader.allDecisions(reviewer: "alice").count, 19)
    }

    func testPredictionCacheRoundTrip() throws {
        let (store, _) = try openStore()
        let attention = FeatureMap(width: 7, height: 7, values: (0..<49).map { Float($0) / 48 })
        let gradcam = FeatureMap(width: 7, height: 5, values: (0..<35).map { Float($0).squareRoot() / 6 })
        let full = Prediction(probabilities: [0.25, 0.75, 1e-7], attention: attention, gradcam: gradcam,
                              membership: Membership(used: [1, 3], memberCount: 5, seenInTraining: false, signaturesKnown: true))
        let noCAM = Prediction(probabilities: [1, 0, 0], attention: attention, gradcam: nil)
        try store.predictionCache.storePrediction(full, imageHash: "ab", weightsID: "w1")
        try store.predictionCache.storePrediction(noCAM, imageHash: "ab", weightsID: "w2")
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: "ab", weightsID: "w1"), full)
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: "ab", weightsID: "w2"), noCAM)
        XCTAssertNil(try store.predictionCache.cachedPrediction(imageHash: "cd", weightsID: "w1"))
        // Replacing an entry keeps one row.
        var updated = full
        updated.probabilities = [1, 0, 0]
        updated.logits = updated.probabilities.map { log(max($0, 1e-30)) }
        try store.predictionCache.storePrediction(updated, imageHash: "ab", weightsID: "w1")
        XCTAssertEqual(try store.predictionCache.cachedPrediction(imageHash: "ab", weightsID: "w1"), updated)
    }

    func testDamagedCacheEntryIsAMiss() throws {
        let (store, _) = try openStore()
        let map = FeatureMap(width: 2, height: 2, values: [0, 1, 2, 3])
        try store.predictionCache.storePrediction(Prediction(probabilities: [1], attention: map, gradcam: map), imageHash: "h", weightsID: "w")
        try store.dbWriter.write { db in
            try db.execute(sql: "UPDATE prediction_cache SET attention = x'0000'")
        }
        XCTAssertNil(try store.predictionCache.cachedPrediction(imageHash: "h", weightsID: "w"))
    }

    func testConcurrentDecisionAndCacheWriters() throws {
        let (store, path) = try openStore()
        let map = FeatureMap(width: 7, height: 7, values: [Float](repeating: 0.5, count: 49))
        let group = DispatchGroup()
        let errors = StoreTestErrors()
        DispatchQueue.global().async(group: group) {
            for i in 0..<100 {
                do {
                    try store.predictionCache.storePrediction(Prediction(probabilities: [1], attention: map, gradcam: map),
                                              imageHash: "h\(i)", weightsID: "w")
                } catch { errors.append("\(error)") }
            }
        }
        for i in 0..<100 {
            try store.record(sampleDecision("case\(i).jpg"))
            if i % 10 == 9 { try store.undoLast(reviewer: "alice"); try store.record(sampleDecision("case\(i).jpg")) }
        }
        group.wait()
        XCTAssertEqual(errors.all, [])
        let reopened = try ReviewStore(path: path)
        XCTAssertEqual(try reopened.allDecisions(reviewer: "alice").count, 100)
        for i in 0..<100 { XCTAssertNotNil(try reopened.predictionCache.cachedPrediction(imageHash: "h\(i)", weightsID: "w")) }
    }

    // MARK: Bad locations: one line each, before anything else happens.

    private func assertOneLineError(_ body: @autoclosure () throws -> Any, contains parts: [String],
                                    file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error", file: file, line: line)
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            for part in parts { XCTAssertTrue(text.contains(part), "'\(text)' should mention '\(part)'", file: file, line: line) }
        }
    }

    func testMissingDirectory() throws {
        let dir = try makeStoreTempDir(self)
        assertOneLineError(try ReviewStore(path: dir + "/nope/review.sqlite"),
                           contains: ["cannot write review database at", "does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/nope"))
    }

    func testParentIsAFile() throws {
        let dir = try makeStoreTempDir(self)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/file", contents: Data("x".utf8)))
        assertOneLineError(try ReviewStore(path: dir + "/file/review.sqlite"), contains: ["is not a directory"])
    }

    func testPathIsADirectory() throws {
        let dir = try makeStoreTempDir(self)
        assertOneLineError(try ReviewStore(path: dir), contains: ["cannot write review database", "is a directory"])
    }

    func testReadOnlyDirectory() throws {
        let dir = try makeStoreTempDir(self)
        let locked = dir + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o555)
        // root ignores permission bits: then check a location no one can write instead.
        let probe = locked + "/probe"
        if FileManager.default.createFile(atPath: probe, contents: nil) as Bool {
            unlink(probe)
            #if os(Linux)
            assertOneLineError(try ReviewStore(path: "/proc/self/review.sqlite"),
                               contains: ["cannot write review database at /proc/self/review.sqlite"])
            #endif
            throw XCTSkip("running as root: permission bits are not enforced (checked /proc instead)")
        }
        assertOneLineError(try ReviewStore(path: locked + "/review.sqlite"),
                           contains: ["cannot write review database at", "permission denied"])
    }

    func testReadOnlyExistingFile() throws {
        let (store, path) = try openStore()
        try store.record(sampleDecision())
        chmod(path, 0o444)
        defer { chmod(path, 0o644) }
        if access(path, W_OK) == 0 { throw XCTSkip("running as root: permission bits are not enforced") }
        assertOneLineError(try ReviewStore(path: path), contains: ["cannot write review database", "permission denied"])
        // Exports still read it.
        XCTAssertEqual(try ReviewStore(path: path, readOnly: true).allDecisions(reviewer: nil).count, 1)
    }

    func testNotAnSQLiteFile() throws {
        let dir = try makeStoreTempDir(self)
        let path = dir + "/notes.sqlite"
        try Data(String(repeating: "these are not the pages you are looking for\n", count: 200).utf8)
            .write(to: URL(fileURLWithPath: path))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        assertOneLineError(try ReviewStore(path: path), contains: ["is not an SQLite database"])
        assertOneLineError(try ReviewStore(path: path, readOnly: true), contains: ["is not an SQLite database"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "the file is left alone")
    }

    func testDamagedSQLiteFile() throws {
        let (store, path) = try openStore()
        for i in 0..<200 { try store.record(sampleDecision("case\(i).jpg", note: String(repeating: "n", count: 100))) }
        let copy = path + ".damaged"
        // A checkpointed copy, then its pages overwritten past the header.
        try store.dbWriter.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: copy)))
        for i in 100..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: copy))
        assertOneLineError(try ReviewStore(path: copy), contains: [copy])
    }

    func testReviewerName() {
        XCTAssertEqual(ReviewStore.reviewerName("dr-x", env: ["USER": "u"]), "dr-x")
        XCTAssertEqual(ReviewStore.reviewerName(nil, env: ["USER": "u"]), "u")
        XCTAssertEqual(ReviewStore.reviewerName(" ", env: ["LOGNAME": "l"]), "l")
        XCTAssertEqual(ReviewStore.reviewerName(nil, env: [:]), "reviewer")
    }

    func testSomeOtherApplicationsDatabaseIsRefused() throws {
        let dir = try makeStoreTempDir(self)
        let path = dir + "/other.sqlite"
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY)") }
        try other.close()
        assertOneLineError(try ReviewStore(path: path), contains: ["not a fracview review database"])
        let tables = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        XCTAssertEqual(tables, ["photos"], "no tables were added")
    }

    func testReadOnlyOpenOfMissingFile() throws {
        let dir = try makeStoreTempDir(self)
        assertOneLineError(try ReviewStore(path: dir + "/none.sqlite", readOnly: true), contains: ["no review database at"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/none.sqlite"))
    }

    func testTimestampsAreUTCWithMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_764_183_845.5)
        XCTAssertEqual(ReviewTime.string(date), "2025-11-26T19:04:05.500Z")
        XCTAssertEqual(ReviewTime.string(date, fractional: false), "2025-11-26T19:04:05Z")
        XCTAssertEqual(ReviewTime.date("2025-11-26T19:04:05.500Z"), date)
        XCTAssertEqual(ReviewTime.date("2025-11-26T19:04:05Z"), Date(timeIntervalSince1970: 1_764_183_845))
        XCTAssertEqual(ReviewTime.string(Date(timeIntervalSince1970: -0.25)), "1969-12-31T23:59:59.750Z")
        // Every millisecond round-trips (a truncating formatter would print some as one less), and junk is refused.
        for ms in stride(from: Int64(1_764_606_140_000), to: 1_764_606_142_000, by: 1) {
            let d = Date(timeIntervalSince1970: Double(ms) / 1000)
            let text = ReviewTime.string(d)
            XCTAssertTrue(text.hasSuffix(String(format: ".%03dZ", Int(ms % 1000))), text)
            XCTAssertEqual(ReviewTime.date(text).map(ReviewTime.milliseconds), ms)
        }
        XCTAssertNil(ReviewTime.date("2025-11-26 19:04:05"))
        XCTAssertNil(ReviewTime.date(""))
        XCTAssertNil(ReviewTime.date("yesterday"))
    }
}
