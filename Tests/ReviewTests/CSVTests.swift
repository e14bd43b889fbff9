import Foundation
@testable import Store
import XCTest

/// A strict RFC 4180 reader: records end in CRLF, quoted fields may hold commas, quotes ("") and line breaks,
/// a quote inside an unquoted field or a bare LF outside quotes is an error.
func parseRFC4180(_ text: String) throws -> [[String]] {
    struct ParseError: Error, CustomStringConvertible { let description: String }
    var records: [[String]] = []
    var record: [String] = []
    var field = ""
    var scalars = Array(text.unicodeScalars)[...]
    var quoted = false, wasQuoted = false
    while let c = scalars.popFirst() {
        if quoted {
            if c == "\"" {
                if scalars.first == "\"" { scalars.removeFirst(); field.unicodeScalars.append("\"") } else { quoted = false }
            } else {
                field.unicodeScalars.append(c)
            }
            continue
        }
        switch c {
        case "\"":
            guard field.isEmpty, !wasQuoted else { throw ParseError(description: "quote inside an unquoted field") }
            quoted = true; wasQuoted = true
        case ",":
            record.append(field); field = ""; wasQuoted = false
        case "\r":
            guard scalars.popFirst() == "\n" else { throw ParseError(description: "CR without LF") }
            record.append(field); records.append(record); record = []; field = ""; wasQuoted = false
        case "\n":
            throw ParseError(description: "bare LF outside quotes")
        default:
            guard !wasQuoted else { throw ParseError(description: "text after a closing quote") }
            field.unicodeScalars.append(c)
        }
    }
    guard !quoted else { throw ParseError(description: "unterminated quote") }
    guard field.isEmpty && record.isEmpty else { throw ParseError(description: "last record does not end in CRLF") }
    return records
}

final class CSVTests: XCTestCase {
    private func readCSV(_ path: String) throws -> (bom: Bool, rows: [[String]]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let bom = data.starts(with: [0xEF, 0xBB, 0xBF])
        let text = try XCTUnwrap(String(data: bom ? data.dropFirst(3) : data, encoding: .utf8))
        return (bom, try parseRFC4180(text))
    }

    func testHeaderAndOneRowPerDecision() throws {
        let dir = try makeStoreTempDir(self)
        let decisions = [
            sampleDecision("test/images/a.jpg", status: .accepted, truth: 2, predicted: 2, at: 1_764_183_845.5),
            sampleDecision("test/images/b.jpg", status: .flagged, truth: nil, predicted: 8, note: "check"),
            sampleDecision("test/images/c.jpg", reviewer: "bob", status: .relabelled, truth: 0, predicted: 8,
                           reviewerLabel: 0, weightsID: "abc123"),
        ]
        try ReviewCSV.write(decisions, classes: sampleClasses, datasetRoot: "/data/hbfmid", to: dir + "/out.csv")
        let (bom, rows) = try readCSV(dir + "/out.csv")
        XCTAssertTrue(bom, "UTF-8 BOM by default, for Excel")
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows[0], ["image_path", "split", "ground_truth", "prediction", "confidence"]
                       + sampleClasses.map { "p_" + $0 }
                       + ["status", "reviewer_label", "reviewer_class", "note", "reviewer", "role", "read_mode", "reviewed_at",
                          "weights_id"])
        XCTAssertTrue(rows.allSatisfy { $0.count == rows[0].count })
        let column = Dictionary(uniqueKeysWithValues: rows[0].enumerated().map { ($1, $0) })
        func cell(_ row: Int, _ name: String) -> String { rows[row][column[name]!] }

        XCTAssertEqual(cell(1, "image_path"), "/data/hbfmid/test/images/a.jpg")
        XCTAssertEqual(cell(1, "split"), "test")
        XCTAssertEqual(cell(1, "ground_truth"), "Healthy")
        XCTAssertEqual(cell(1, "prediction"), "Healthy")
        XCTAssertEqual(Float(cell(1, "confidence")), decisions[0].probabilities[2])
        XCTAssertEqual(Float(cell(1, "p_Healthy")), 0.91)
        XCTAssertEqual(Float(cell(1, "p_Comminuted")), 0.01)
        XCTAssertEqual(cell(1, "status"), "accepted")
        XCTAssertEqual(cell(1, "reviewer_label"), "")
        XCTAssertEqual(cell(1, "reviewer_class"), "Healthy", "an accept names the class it accepted")
        XCTAssertEqual(cell(1, "reviewer"), "alice")
        XCTAssertEqual(cell(1, "role"), "reader")
        XCTAssertEqual(cell(1, "read_mode"), "open")
        XCTAssertEqual(cell(1, "reviewed_at"), "2025-11-26T19:04:05Z")
        XCTAssertEqual(cell(1, "weights_id"), "w123")

        XCTAssertEqual(cell(2, "ground_truth"), "unlabelled")
        XCTAssertEqual(cell(2, "prediction"), "Transverse Displaced")
        XCTAssertEqual(cell(2, "status"), "flagged")
        XCTAssertEqual(cell(2, "note"), "check")
        XCTAssertEqual(cell(2, "reviewer_class"), "", "a flag names no class")

        XCTAssertEqual(cell(3, "ground_truth"), "Comminuted")
        XCTAssertEqual(cell(3, "status"), "relabelled")
        XCTAssertEqual(cell(3, "reviewer_label"), "Comminuted")
        XCTAssertEqual(cell(3, "reviewer_class"), "Comminuted")
        XCTAssertEqual(cell(3, "reviewer"), "bob")
        XCTAssertEqual(cell(3, "weights_id"), "abc123")
    }

    func testRelativePathsWithoutDatasetRootAndNoBOM() throws {
        let dir = try makeStoreTempDir(self)
        try ReviewCSV.write([sampleDecision("test/images/a.jpg")], classes: sampleClasses, datasetRoot: nil,
                            to: dir + "/out.csv", byteOrderMark: false)
        let (bom, rows) = try readCSV(dir + "/out.csv")
        XCTAssertFalse(bom)
        XCTAssertEqual(rows[1][0], "test/images/a.jpg")
    }

    func testQuotingRoundTripsAwkwardText() throws {
        let dir = try makeStoreTempDir(self)
        let notes = ["comma, here", "say \"oblique\"", "two\r\nlines", "lf\nonly", "cr\ronly", "ünïcödé 骨折 🦴",
                     "\"", ",", "", " leading space"]
        let decisions = notes.enumerated().map { i, note in
            sampleDecision("test/images/\(i),\"x\".jpg", reviewer: "dr \"o'brien\", md", note: note)
        }
        try ReviewCSV.write(decisions, classes: sampleClasses, datasetRoot: nil, to: dir + "/out.csv")
        let (_, rows) = try readCSV(dir + "/out.csv")
        let noteColumn = rows[0].firstIndex(of: "note")!
        let reviewerColumn = rows[0].firstIndex(of: "reviewer")!
        XCTAssertEqual(rows.dropFirst().map { $0[noteColumn] }, notes)
        XCTAssertEqual(rows.dropFirst().map { $0[0] }, decisions.map(\.caseID))
        XCTAssertTrue(rows.dropFirst().allSatisfy { $0[reviewerColumn] == "dr \"o'brien\", md" })
    }

    func testFormulaCellsAreNeutralised() throws {
        let dir = try makeStoreTempDir(self)
        let dangerous = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "=1,2"]
        let decisions = dangerous.enumerated().map { i, note in
            sampleDecision("case\(i).jpg", reviewer: "=cmd|' /C calc'!A0", note: note)
        }
        try ReviewCSV.write(decisions, classes: ["=evil", "ok"], datasetRoot: nil, to: dir + "/out.csv")
        let (_, rows) = try readCSV(dir + "/out.csv")
        let noteColumn = rows[0].firstIndex(of: "note")!
        XCTAssertEqual(rows.dropFirst().map { $0[noteColumn] }, dangerous.map { "'" + $0 })
        XCTAssertTrue(rows.dropFirst().allSatisfy { $0[rows[0].firstIndex(of: "reviewer")!] == "'=cmd|' /C calc'!A0" })
        XCTAssertTrue(rows[0].contains("p_=evil"), "header cells starting with p_ need nothing")
        // No cell of the file starts with a formula trigger.
        for row in rows { for cell in row { XCTAssertFalse(["=", "+", "-", "@", "\t", "\r"].contains(cell.first.map(String.init) ?? "")) } }
        // Text merely containing the characters is left alone.
        XCTAssertEqual(ReviewCSV.neutralise("a=b"), "a=b")
        XCTAssertEqual(ReviewCSV.neutralise("1e-05"), "1e-05")
    }

    func testNumbersAreNotAltered() {
        let cells = ReviewCSV.cells(sampleDecision(predicted: 3), classes: sampleClasses, datasetRoot: nil)
        XCTAssertEqual(cells[4], "0.910000")
        XCTAssertEqual(cells[5], "0.010000")
    }

    func testOutOfRangeIndicesAndShortProbabilities() {
        var decision = sampleDecision(truth: 12, predicted: 1, reviewerLabel: 11)
        decision.probabilities = [0.2, 0.8]
        let cells = ReviewCSV.cells(decision, classes: sampleClasses, datasetRoot: nil)
        XCTAssertEqual(cells.count, ReviewCSV.header(classes: sampleClasses).count)
        XCTAssertEqual(cells[2], "class 12")
        XCTAssertEqual(cells[4], "0.800000")
        XCTAssertEqual(cells[7], "", "missing probabilities are empty cells")
        XCTAssertEqual(cells[5 + 10 + 1], "class 11")
    }

    func testAtomicReplaceLeavesNoTemporaryFiles() throws {
        let dir = try makeStoreTempDir(self)
        let path = dir + "/out.csv"
        try Data("old,content\r\n".utf8).write(to: URL(fileURLWithPath: path))
        try ReviewCSV.write([sampleDecision()], classes: sampleClasses, datasetRoot: nil, to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.csv"])
        XCTAssertEqual(try readCSV(path).rows.count, 2)
    }

    func testFailedWriteKeepsTheOldFile() throws {
        let dir = try makeStoreTempDir(self)
        let path = dir + "/out.csv"
        let old = Data("old,content\r\n".utf8)
        try old.write(to: URL(fileURLWithPath: path))
        // Renaming a file over a non-empty directory fails: the old file at another path must stay intact…
        try FileManager.default.createDirectory(atPath: dir + "/taken.csv", withIntermediateDirectories: false)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/taken.csv/x", contents: nil))
        XCTAssertThrowsError(try ReviewCSV.write([sampleDecision()], classes: sampleClasses, datasetRoot: nil,
                                                 to: dir + "/taken.csv")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write CSV to \(dir)/taken.csv"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), old)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["out.csv", "taken.csv"],
                       "no temporary file left behind")
        // …and a missing folder is a clear one-line error.
        XCTAssertThrowsError(try ReviewCSV.write([], classes: [], datasetRoot: nil, to: dir + "/no/such/out.csv")) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    func testReadersNeverSeeAHalfWrittenFile() throws {
        let dir = try makeStoreTempDir(self)
        let path = dir + "/out.csv"
        let small = [sampleDecision()]
        let large = (0..<1000).map { sampleDecision("case\($0).jpg", note: String(repeating: "x", count: 200)) }
        try ReviewCSV.write(small, classes: sampleClasses, datasetRoot: nil, to: path)
        let done = StoreTestFlag()
        let errors = StoreTestErrors()
        let reader = Thread {
            while !done.isSet {
                guard let data = FileManager.default.contents(atPath: path) else { errors.append("file missing"); continue }
                let text = String(decoding: data.dropFirst(3), as: UTF8.self)
                do {
                    let rows = try parseRFC4180(text)
                    if rows.count != 2 && rows.count != 1001 { errors.append("saw \(rows.count) rows") }
                } catch { errors.append("torn file: \(error)") }
            }
        }
        reader.start()
        for i in 0..<10 { try ReviewCSV.write(i % 2 == 0 ? large : small, classes: sampleClasses, datasetRoot: nil, to: path) }
        done.set()
        while !reader.isFinished { usleep(1000) }
        XCTAssertEqual(errors.all, [])
    }

    func testExportFromTheStoreMatchesTheDecisions() throws {
        let dir = try makeStoreTempDir(self)
        let store = try ReviewStore(path: dir + "/review.sqlite")
        try store.setSessionInfo(datasetRoot: "/data/hbfmid", classes: sampleClasses)
        try store.record(sampleDecision("test/images/1.jpg", status: .flagged, note: "=danger"))
        try store.record(sampleDecision("test/images/2.jpg", reviewer: "bob", status: .relabelled, reviewerLabel: 7))
        try ReviewCSV.write(try store.allDecisions(reviewer: nil), classes: try store.classes(),
                            datasetRoot: try store.datasetRoot(), to: dir + "/all.csv")
        let rows = try readCSV(dir + "/all.csv").rows
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[1][rows[0].firstIndex(of: "note")!], "'=danger")
        XCTAssertEqual(rows[2][rows[0].firstIndex(of: "reviewer_label")!], "Spiral")
    }

    /// `fracview export` end to end, when the binary was built beside the test bundle (swift build --build-tests).
    func testExportCommand() throws {
        _ = try Fracview.binary()
        let dir = try makeStoreTempDir(self)
        let store = try ReviewStore(path: dir + "/review.sqlite")
        try store.setSessionInfo(datasetRoot: "/data/hbfmid", classes: sampleClasses)
        try store.record(sampleDecision("test/images/1.jpg", reviewer: "alice"))
        try store.record(sampleDecision("test/images/2.jpg", reviewer: "bob", status: .flagged))

        // Two reviewers: the user says which (or all), the file never mixes readers by surprise.
        var result = try Fracview.run(["export", "--db", dir + "/review.sqlite", "-o", dir + "/all.csv"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("holds 2 reviewers (alice, bob): pass --reviewer NAME, or --all-reviewers"), result.output)
        result = try Fracview.run(["export", "--db", dir + "/review.sqlite", "--all-reviewers", "-o", dir + "/all.csv"])
        XCTAssertEqual(result.status, 0, result.output)
        let all = try readCSV(dir + "/all.csv").rows
        XCTAssertEqual(all.count, 3)
        XCTAssertEqual(all[1][all[0].firstIndex(of: "role")!], "reader")
        XCTAssertEqual(all[1][all[0].firstIndex(of: "read_mode")!], "open")
        result = try Fracview.run(["export", "--db", dir + "/review.sqlite", "--reviewer", "bob", "--relative-paths",
                                   "-o", dir + "/bob.csv"])
        XCTAssertEqual(result.status, 0, result.output)
        let bob = try readCSV(dir + "/bob.csv").rows
        XCTAssertEqual(bob.count, 2)
        XCTAssertEqual(bob[1][0], "test/images/2.jpg")
        result = try Fracview.run(["export", "--db", dir + "/missing.sqlite", "-o", dir + "/x.csv"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("no review database at"), result.output)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, result.output)
        result = try Fracview.run(["export", "--db", dir + "/review.sqlite", "--reviewer", "carol", "-o", dir + "/x.csv"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("no reviewed cases by reviewer 'carol'"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.csv"))
    }
}
