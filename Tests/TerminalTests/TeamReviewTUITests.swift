@testable import Datasets
import Foundation
@testable import Store
import XCTest

/// Team review through the real binary on pseudo-terminals: blind reads, adjudication, and two readers on one
/// PostgreSQL database (kill -9, a server restart, an outage). The PostgreSQL tests use the server that
/// scripts/postgres.sh starts; they skip without one, and fail under CI.
final class TeamReviewTUITests: XCTestCase {
    var tmp: String!
    let sample = PseudoTerminal.repoRoot.appendingPathComponent("samples/hbfmid-test").path

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "fracview-team-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func launch(_ reviewer: String, db: String, dataset: String? = nil, _ extra: [String], cols: Int = 120,
                rows: Int = 32) throws -> PseudoTerminal {
        try PseudoTerminal(arguments: ["review", dataset ?? sample, "--db", db, "--reviewer", reviewer, "--graphics", "blocks",
                                       "--export", tmp + "/\(reviewer).csv", "--cache", tmp + "/cache-\(reviewer).sqlite"] + extra,
                           cols: cols, rows: rows, environment: ["FRACVIEW_WEIGHTS": ""])
    }

    /// The sample's class names (data.yaml), and its cases' labels.
    func sampleTruths() throws -> [String: Int] {
        let data = try YOLODataset.open(root: sample)
        var truths: [String: Int] = [:]
        for c in try data.cases(split: "test") { if let k = c.truth.classIndex { truths[c.relativePath] = k } }
        return truths
    }

    // MARK: blind reads and adjudication (SQLite: no server needed)

    func testBlindReadHidesTheLabelAndHasNoAccept() throws {
        let db = tmp + "/review.sqlite"
        let t = try launch("alice", db: db, ["--blind", "--blind-model"], rows: 40)
        t.waitFor(text: "hidden (blind read)")
        t.waitFor(text: "team 1 reader")
        t.waitFor(text: "blind read")
        XCTAssertFalse(t.screen.text.contains("✓ agree") || t.screen.text.contains("✗ disagree"), t.screen.text)
        XCTAssertFalse(t.screen.text.contains(" box"), "the label boxes are part of the label:\n\(t.screen.text)")
        t.send("b")
        t.waitFor(text: "label boxes are part of the label")
        t.send("e")
        t.waitFor(text: "the CSV holds the labels")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/alice.csv"))
        t.send("a")
        t.waitFor(text: "a is off")
        XCTAssertTrue(t.screen.text.contains("you 0/64"), t.screen.text)
        t.send("3")
        t.waitFor(text: "you 1/64")
        t.send("f")
        t.waitFor(text: "you 2/64")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        let rows = try ReviewStore(path: db).decisions(reviewer: "alice", split: "test")
        XCTAssertEqual(rows.count, 2)
        let truths = try sampleTruths()
        for d in rows.values {
            XCTAssertEqual(d.readMode, .blindModel)
            XCTAssertEqual(d.role, .reader)
            XCTAssertEqual(d.truth, truths[d.caseID], "the hidden label is still recorded")
            if d.status != .flagged {
                // A pick equal to the hidden label is stored as an accept, any other as a relabel: never both.
                XCTAssertEqual(d.decidedClass, 3)
                XCTAssertEqual(d.status, d.truth == 3 ? .accepted : .relabelled)
            }
        }
    }

    func testAdjudicationStepsThroughTheDisagreementsOnly() throws {
        let db = tmp + "/review.sqlite"
        let store = try ReviewStore(path: db)
        let truths = try sampleTruths()
        let classes = try YOLODataset.open(root: sample).classes
        try store.setSessionInfo(datasetRoot: sample, classes: classes)
        let paths = truths.keys.sorted()
        func read(_ path: String, _ who: String, _ k: Int?, note: String = "") -> ReviewDecision {
            let t = truths[path]
            let status: ReviewStatus = k == nil ? .flagged : (k == t ? .accepted : .relabelled)
            return ReviewDecision(caseID: path, split: "test", reviewer: who, status: status, truth: t, predicted: nil,
                                  probabilities: [], reviewerLabel: status == .relabelled ? k : nil, note: note,
                                  reviewedAt: Date(), weightsID: "", readMode: .blind)
        }
        // Cases 0–2: alice and bob disagree; 3–4: they agree; 5: only alice read it.
        for (i, path) in paths.prefix(6).enumerated() {
            try store.record(read(path, "alice", 4, note: i == 0 ? "looks oblique" : ""))
            if i < 3 { try store.record(read(path, "bob", i == 2 ? nil : 7)) } else if i < 5 { try store.record(read(path, "bob", 4)) }
        }
        let t = try launch("carol", db: db, ["--adjudicate"])
        t.waitFor(text: "1/3")
        t.waitFor(text: "readers disagree")
        t.waitFor(text: "Readers (2)")
        t.waitFor(text: "“looks oblique”")
        t.waitFor(text: "you 0/3 disputed")
        XCTAssertTrue(t.screen.text.contains("alice") && t.screen.text.contains("bob"), t.screen.text)
        t.send("7")
        t.waitFor(text: "you 1/3 disputed")
        t.send("f")
        t.waitFor(text: "you 2/3 disputed")
        t.send("u")
        t.waitFor(text: "you 1/3 disputed")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        let adjudications = try store.decisions(reviewer: "carol", role: .adjudicator, split: "test")
        XCTAssertEqual(adjudications.count, 1)
        XCTAssertEqual(adjudications[paths[0]]?.decidedClass, 7)
        XCTAssertEqual(adjudications[paths[0]]?.role, .adjudicator)
        XCTAssertEqual(try store.decisions(reviewer: "carol", role: .reader, split: "test").count, 0)
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").count, 6, "readers' rows untouched")
        // The CSV in long format carries the roles.
        let export = try Self.run(["export", "--db", db, "--all-reviewers", "-o", tmp + "/all.csv"])
        XCTAssertEqual(export, 0)
        let csv = try String(contentsOfFile: tmp + "/all.csv", encoding: .utf8)
        XCTAssertEqual(csv.components(separatedBy: ",adjudicator,").count - 1, 1)
        XCTAssertEqual(csv.components(separatedBy: ",reader,blind,").count - 1, 11)
        // Every blind pick names its class in reviewer_class, the accepts (a pick equal to the hidden label) too.
        let lines = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try XCTUnwrap(lines.first).map { $0.replacingOccurrences(of: "\u{FEFF}", with: "") }
        let (who, picked) = (try XCTUnwrap(header.firstIndex(of: "reviewer")), try XCTUnwrap(header.firstIndex(of: "reviewer_class")))
        let alice = lines.dropFirst().filter { $0.count == header.count && $0[who] == "alice" }
        XCTAssertEqual(alice.count, 6)
        XCTAssertEqual(Set(alice.map { $0[picked] }), [classes[4]], "accepts and relabels alike")
    }

    // MARK: PostgreSQL

    func freshPostgres() throws -> String {
        guard let base = ProcessInfo.processInfo.environment["FRACVIEW_TEST_PG_URL"] else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("CI must run the PostgreSQL tests: FRACVIEW_TEST_PG_URL unset") }
            throw XCTSkip("no PostgreSQL server: run `eval \"$(bash scripts/postgres.sh start)\"`")
        }
        let name = "fracview_tui_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try PostgresConnection(url: PostgresURL(base)).execute("CREATE DATABASE \(name)")
        addTeardownBlock {
            _ = try? PostgresConnection(url: PostgresURL(base)).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
        let slash = base.range(of: "/", options: .backwards)!.lowerBound
        return String(base[..<slash]) + "/" + name
    }

    func serverControl(_ verb: String) throws {
        guard let ctl = ProcessInfo.processInfo.environment["FRACVIEW_TEST_PG_CTL"] else { throw XCTSkip("FRACVIEW_TEST_PG_CTL unset") }
        // system(3), not Process: the server that pg_ctl leaves running would inherit Foundation's pipe and keep
        // waitUntilExit waiting for ever.
        XCTAssertEqual(system("\(ctl) \(verb) >/dev/null 2>&1 </dev/null"), 0, "postgres.sh \(verb)")
    }

    /// The sample three times over (192 cases), so that two readers and 20 kill rounds have cases enough.
    func biggerDataset() throws -> String {
        let root = tmp + "/ds"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/test/images", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/test/labels", withIntermediateDirectories: true)
        try fm.copyItem(atPath: sample + "/data.yaml", toPath: root + "/data.yaml")
        for name in try fm.contentsOfDirectory(atPath: sample + "/test/images") {
            let stem = (name as NSString).deletingPathExtension
            for copy in ["a", "b", "c"] {
                try fm.createSymbolicLink(atPath: root + "/test/images/\(copy)_\(name)", withDestinationPath: sample + "/test/images/\(name)")
                try fm.copyItem(atPath: sample + "/test/labels/\(stem).txt", toPath: root + "/test/labels/\(copy)_\(stem).txt")
            }
        }
        return root
    }

    /// Two blind readers on one PostgreSQL database, 55 decisions each, interleaved; then one of them is killed
    /// with SIGKILL mid-decision, 20 times. After every kill each decision whose screen update was seen is in the
    /// database: the count of lost decisions is printed and must be 0.
    func testTwoReadersOnPostgresInterleavedThenKilledTwentyTimes() throws {
        let url = try freshPostgres()
        let ds = try biggerDataset()
        let alice = try launch("alice", db: url, dataset: ds, ["--blind", "--blind-model"])
        let bob = try launch("bob", db: url, dataset: ds, ["--blind", "--blind-model"])
        alice.waitFor(text: "you 0/192"); bob.waitFor(text: "you 0/192")
        for i in 0..<55 {
            alice.send(String(i % 10)); alice.waitFor(text: "you \(i + 1)/192")
            bob.send(String((i + 3) % 10)); bob.waitFor(text: "you \(i + 1)/192")
        }
        alice.waitFor(text: "team 2 readers")
        let store = try PostgresReviewStore(url: PostgresURL(url))
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").count, 55)
        XCTAssertEqual(try store.decisions(reviewer: "bob", split: "test").count, 55)

        var rng = SystemRandomNumberGenerator()
        var seen = 55, lost = 0
        var bobNow: PseudoTerminal? = bob
        for round in 0..<20 {
            let t = try bobNow ?? launch("bob", db: url, dataset: ds, ["--blind", "--blind-model"])
            t.waitFor(text: "you \(seen)/192")
            t.send(String(round % 10))
            t.waitFor(text: "you \(seen + 1)/192")
            seen += 1
            // Another decision key, and the kill while it is handled (or just before, or just after).
            t.send(bytes: Array(String((round + 5) % 10).utf8), settle: false)
            usleep(useconds_t.random(in: 0..<30_000, using: &rng))
            t.killHard()
            bobNow = nil
            let stored = try store.decisions(reviewer: "bob", split: "test").count
            lost += max(0, seen - stored)
            XCTAssertTrue((seen...seen + 1).contains(stored), "round \(round): \(seen) seen, \(stored) stored")
            seen = max(seen, stored)
        }
        print("team kill -9 test: 20 kills, \(seen) decisions of bob seen on screen, \(lost) lost")
        XCTAssertEqual(lost, 0)
        alice.send("q")
        XCTAssertEqual(alice.waitForExit(), 0)
        XCTAssertEqual(try store.decisions(reviewer: "alice", split: "test").count, 55, "the other reader lost nothing")
    }

    /// The server restarts under a running TUI: the next decision saves (reconnected on the spot). Then an outage:
    /// the decision is refused and shown NOT saved, the status bar says so, and when the server is back the TUI
    /// reconnects by itself and saves again. Nothing seen on screen is lost.
    func testPostgresRestartAndOutageWhileATUIRuns() throws {
        let url = try freshPostgres()
        let t = try launch("alice", db: url, ["--blind", "--blind-model"], cols: 300, rows: 40) // a two-row status bar
        t.waitFor(text: "you 0/64")
        t.send("1"); t.waitFor(text: "you 1/64")
        try serverControl("restart")
        t.send("2"); t.waitFor(text: "you 2/64", timeout: 20)

        try serverControl("stop")
        defer { try? serverControl("start") }
        t.send("3")
        t.waitFor(text: "NOT saved")
        t.waitFor(text: "review database unreachable")
        XCTAssertTrue(t.screen.text.contains("you 2/64"), "the refused decision is not counted:\n\(t.screen.text)")
        XCTAssertFalse(t.screen.text.contains("fracview-test-only"), "never the password")
        t.send("4")
        t.waitFor(text: "decisions are refused until it is back")
        try serverControl("start")
        t.waitFor(text: "reconnected", timeout: 20)
        t.send("5"); t.waitFor(text: "you 3/64")
        t.send("q")
        XCTAssertEqual(t.waitForExit(), 0)
        let rows = try PostgresReviewStore(url: PostgresURL(url)).decisions(reviewer: "alice", split: "test")
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(Set(rows.values.compactMap(\.decidedClass)), [1, 2, 5], "the refused 3 and 4 are not stored")
    }

    static func run(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try PseudoTerminal.binary())
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        return p.terminationStatus
    }
}
