@testable import Datasets
import Foundation
import GRDB
@testable import Model
@testable import Store
import XCTest

/// The reproducers of the reliability issue that concern datasets and the review database: each is a clear
/// one-line error or is handled, fast and in bounded memory.
final class ReliabilityTests: XCTestCase {
    private func image() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: AuditTests.sampleImages[0])) }

    /// A dataset of one labelled test image (class 0) under the given data.yaml.
    private func oneImageDataset(yaml: String) throws -> TempDir {
        let t = TempDir()
        t.write("data.yaml", yaml)
        t.write("test/images/x.jpg", try image())
        t.write("test/labels/x.txt", "0 0.5 0.5 0.2 0.2\n")
        return t
    }

    // MARK: datasets

    /// Issue #26 §3, §6: YAML anchors and aliases (a billion-laughs bomb, an alias as a mapping key) are refused
    /// before Yams sees them, in data.yaml (and keys.yaml and themes, through the same ConfigYAML).
    func testYAMLAnchorsAndAliasesAreRefusedBeforeParsing() throws {
        XCTAssertNotNil(ConfigYAML.refusal("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"))
        XCTAssertEqual(ConfigYAML.refusal("a: &x 1\n? *x : y\n"), "YAML anchors are not accepted (line 1)")
        XCTAssertEqual(ConfigYAML.refusal("names: [*a]\n"), "YAML aliases are not accepted (line 1)")
        for harmless in ["names: [R&D, \"a *b\", 'x &y', 'it''s &z']\n", "nc: 2 # &anchor in a comment\n",
                         "note: \"quoted\\\" *still quoted\"\n", "names: [a*b, c&d]\n", "- * not an alias\n"] {
            XCTAssertNil(ConfigYAML.refusal(harmless), harmless)
        }
        let t = try oneImageDataset(yaml: "a: &a9 [x]\nnames:\n  ? *a9 : Healthy\n  0: Comminuted\n")
        let start = Date()
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "no spin")
        XCTAssertTrue(ds.problems.contains { $0.contains("anchors are not accepted") }, "\(ds.problems)")
    }

    /// A mapping or a sequence used as a mapping key (`? {a: b} : c`) made Yams trap while building the dictionary
    /// (the `yaml` fuzz harness found it in a theme: `? prediction: "#59c2ff"`); it is refused in one line now, and a
    /// theme file with one is reported, not a crash.
    func testComplexMappingKeysAreRefusedNotATrap() throws {
        for (yaml, kind) in [("colors:\n  text: \"#e6e1cf\"\n? prediction: \"#59c2ff\"\n  agree: x\n", "a mapping"),
                             ("? - a\n  - b\n: c\n", "a sequence"), ("x:\n  - ? {a: b}\n    : c\n", "a mapping")] {
            XCTAssertThrowsError(try ConfigYAML.load(yaml), yaml) { error in
                XCTAssertTrue("\(error)".contains("mapping keys must be plain values, not \(kind)"), "\(error)")
            }
        }
        let loaded = try XCTUnwrap(try ConfigYAML.load("a: 1\nb: [x, {c: d}]\n") as? [AnyHashable: Any])
        XCTAssertEqual(loaded["a"] as? Int, 1, "plain keys load as before")
        let regression = RepoPaths.root.appendingPathComponent("Tests/Fuzz/regressions/yaml/crash-d1bb2cb18dea4301f16fe390ebf6419dde8d6b28")
        XCTAssertThrowsError(try ConfigYAML.load(try String(contentsOf: regression, encoding: .utf8)))
    }

    /// Issue #26 §11: `0x0` is id 0 again, so a second name replaced Comminuted with Healthy and audit saw nothing;
    /// a list naming a class twice was accepted. Both are problems now, and `evaluate` refuses to score them.
    func testRepeatedClassIDsAndNamesAreProblemsAndNotScored() throws {
        for (yaml, expected) in [("names: {0: Comminuted, 1: Greenstick, 2: Healthy, 0x0: Healthy}\n", "class id 0 is named twice"),
                                 ("names: [Comminuted, Healthy, healthy]\n", "classes 1 and 2 have the same name")] {
            let t = try oneImageDataset(yaml: yaml)
            let ds = try YOLODataset.open(root: t.path)
            XCTAssertEqual(ds.classes.first, "Comminuted", "the first name of id 0 stands")
            XCTAssertTrue(ds.problems.contains { $0.contains(expected) }, "\(ds.problems)")
            XCTAssertNotNil(ds.classListAmbiguity)
            let result = try Fracview.run(["evaluate", t.path, "--weights", RepoPaths.tinyWeights])
            XCTAssertEqual(result.status, 1)
            XCTAssertTrue(result.stderr.contains(expected) && result.stderr.contains("cannot score"), result.stderr)
        }
    }

    /// Issue #26 §15: `evaluate` on a dataset with data.yaml problems failed with three stderr lines; the first
    /// problem now joins the one-line error.
    func testEvaluateFailsInOneLineWithTheDatasetProblem() throws {
        let t = try oneImageDataset(yaml: "nc: 3\nfoo: [\n")
        let result = try Fracview.run(["evaluate", t.path, "--weights", RepoPaths.tinyWeights])
        XCTAssertEqual(result.status, 1)
        let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("data.yaml: not valid YAML"), result.stderr)
    }

    func testHugeClassIDInNamesIsBounded() throws {
        let t = try oneImageDataset(yaml: "names: {0: a, 999999999999: b}\n")
        let start = Date()
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(ds.classes, ["a"])
        XCTAssertTrue(ds.problems.contains { $0.contains("999999999999") && $0.contains("limit") }, "\(ds.problems)")
    }

    func testHugeNcIsIgnored() throws {
        let t = TempDir()
        t.write("data.yaml", "nc: 999999999\n")
        t.write("test/images/x.jpg", try image())
        t.write("test/labels/x.txt", "1 0.5 0.5 0.2 0.2\n")
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertEqual(ds.classes.count, 2, "placeholders from the label ids, not from nc")
        XCTAssertTrue(ds.problems.contains { $0.contains("`nc` is 999999999") }, "\(ds.problems)")
    }

    /// Without names, placeholder names were made for every id up to the largest one in a label file.
    func testHugeLabelIDWithoutNamesIsALabelProblem() throws {
        for id in ["2147483647", "30000000", "99999999999999999999"] {
            let t = TempDir()
            t.write("test/images/x.jpg", try image())
            t.write("test/images/y.jpg", try image())
            t.write("test/labels/x.txt", "\(id) 0.5 0.5 0.2 0.2\n")
            t.write("test/labels/y.txt", "3 0.5 0.5 0.2 0.2\n")
            let start = Date()
            let ds = try YOLODataset.open(root: t.path)
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, id)
            XCTAssertEqual(ds.classes.count, 4, "ids 0…3 from the good label; \(id) is out of range")
            let cases = try ds.cases(split: "test")
            XCTAssertEqual(cases.first { $0.relativePath.hasSuffix("x.jpg") }?.truth.classIndex, nil, "never a class")
            XCTAssertTrue(ds.problems.contains { $0.contains("test/labels/x.txt: line 1") }, "\(ds.problems)")
        }
    }

    func testOversizedLabelFileIsNotRead() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        t.write("test/images/x.jpg", try image())
        t.write("test/labels/x.txt", Data(repeating: UInt8(ascii: "1"), count: LabelFile.maxFileBytes + 1))
        t.write("test/images/y.jpg", try image())
        t.write("test/labels/y.txt", "2 0.5 0.5 0.2 0.2\n")
        let ds = try YOLODataset.open(root: t.path)
        let cases = try ds.cases(split: "test")
        XCTAssertEqual(cases.map(\.truth.classIndex), [nil, 2])
        XCTAssertTrue(ds.problems.contains { $0.contains("x.txt") && $0.contains("over the 1024 KiB limit") }, "\(ds.problems)")
    }

    func testFIFOLabelFileDoesNotHang() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        t.write("test/images/x.jpg", try image())
        t.mkdir("test/labels")
        XCTAssertEqual(mkfifo(t.path + "/test/labels/x.txt", 0o644), 0)
        let ds = try YOLODataset.open(root: t.path)
        XCTAssertEqual(try ds.cases(split: "test").first?.truth.classIndex, nil)
    }

    // MARK: the review database

    private func makeDatabase(_ dir: String, rows: Int = 3) throws -> String {
        let path = dir + "/review.sqlite"
        let store = try ReviewStore(path: path)
        try store.setSessionInfo(datasetRoot: "/data", classes: sampleClasses)
        for i in 0..<rows { try store.record(sampleDecision("test/images/\(i).jpg", at: 1_764_000_000 + Double(i))) }
        return path
    }

    private func execute(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    private func openError(_ path: String, readOnly: Bool = false) -> String {
        do { _ = try ReviewStore(path: path, readOnly: readOnly); return "" } catch { return "\(error)" }
    }

    func testDatabaseWithoutAColumnIsRefused() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        try execute(path, "ALTER TABLE decision DROP COLUMN note")
        for readOnly in [false, true] {
            let e = openError(path, readOnly: readOnly)
            XCTAssertTrue(e.contains("damaged") && e.contains("decision.note"), e)
        }
        let export = try Fracview.run(["export", "--db", path, "-o", dir + "/out.csv"])
        XCTAssertEqual(export.status, 1)
        XCTAssertEqual(export.stderr.split(separator: "\n").count, 1, export.stderr)
        XCTAssertTrue(export.stderr.contains("decision.note"), export.stderr)
    }

    func testDatabaseFromANewerFracviewIsRefused() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        try execute(path, "PRAGMA user_version = 99")
        XCTAssertTrue(openError(path).contains("newer fracview"), openError(path))
        XCTAssertTrue(openError(path, readOnly: true).contains("newer fracview"))
        try execute(path, "PRAGMA user_version = 2")
        XCTAssertEqual(openError(path), "")
        try execute(path, "INSERT INTO grdb_migrations (identifier) VALUES ('v9')")
        XCTAssertTrue(openError(path).contains("unknown migrations"), openError(path))
        let rows = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decision") }
        XCTAssertEqual(rows, 3, "nothing was written to the newer database")
    }

    func testOneBadRowDoesNotBlockTheExport() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        try execute(path, "UPDATE decision SET probabilities = '{not json' WHERE case_id = 'test/images/1.jpg'")
        try execute(path, "UPDATE decision SET reviewed_at = 'yesterday' WHERE case_id = 'test/images/2.jpg'")
        let read = try ReviewStore(path: path, readOnly: true).readDecisions(reviewer: nil)
        XCTAssertEqual(read.decisions.map(\.caseID), ["test/images/0.jpg", "test/images/1.jpg"])
        XCTAssertEqual(read.decisions[1].probabilities, [])
        XCTAssertEqual(read.problems.count, 2)
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/1.jpg") && $0.contains("probabilities") }, "\(read.problems)")
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/2.jpg") && $0.contains("bad reviewed_at") })

        let export = try Fracview.run(["export", "--db", path, "-o", dir + "/out.csv"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertEqual(export.stderr.split(separator: "\n").count, 2, export.stderr)
        let csv = try String(contentsOfFile: dir + "/out.csv", encoding: .utf8)
        XCTAssertTrue(csv.contains("0.jpg") && csv.contains("1.jpg"), csv)
    }

    /// A value of the wrong type is not read as "no value": a label that silently became "unlabelled" would be a
    /// wrong label. The row is left out, named, with the column that is wrong.
    func testAWrongTypedColumnLeavesTheRowOutNamingTheColumn() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        try execute(path, "UPDATE decision SET truth = 'abc' WHERE case_id = 'test/images/0.jpg'")
        try execute(path, "PRAGMA ignore_check_constraints = ON; UPDATE decision SET status = 'maybe' WHERE case_id = 'test/images/1.jpg'")
        let read = try ReviewStore(path: path, readOnly: true).readDecisions(reviewer: nil)
        XCTAssertEqual(read.decisions.map(\.caseID), ["test/images/2.jpg"])
        XCTAssertEqual(read.problems.count, 2, "\(read.problems)")
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/0.jpg") && $0.contains("bad truth 'abc'") }, "\(read.problems)")
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/1.jpg") && $0.contains("bad status 'maybe'") }, "\(read.problems)")
        XCTAssertTrue(read.problems.allSatisfy { $0.hasSuffix("left out") && !$0.contains("\n") })
    }

    /// Issue #26 §10: a REAL where a class index belongs (truth 2.5, reviewer_label 8.99) was exported as class 2
    /// and class 8, silently. The row is left out, named, like any other wrong-typed value; a whole REAL (2.0) is 2.
    func testAFractionalClassIndexLeavesTheRowOut() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        try execute(path, "UPDATE decision SET truth = 2.5 WHERE case_id = 'test/images/0.jpg'")
        try execute(path, "UPDATE decision SET status = 'relabelled', reviewer_label = 8.99 WHERE case_id = 'test/images/1.jpg'")
        try execute(path, "UPDATE decision SET truth = 2.0 WHERE case_id = 'test/images/2.jpg'")
        let read = try ReviewStore(path: path, readOnly: true).readDecisions(reviewer: nil)
        XCTAssertEqual(read.decisions.map(\.caseID), ["test/images/2.jpg"])
        XCTAssertEqual(read.decisions.first?.truth, 2)
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/0.jpg") && $0.contains("bad truth '2.5'") }, "\(read.problems)")
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/1.jpg") && $0.contains("bad reviewer_label '8.99'") }, "\(read.problems)")
        let export = try Fracview.run(["export", "--db", path, "-o", dir + "/out.csv"])
        let csv = (try? String(contentsOfFile: dir + "/out.csv", encoding: .utf8)) ?? ""
        XCTAssertFalse(csv.contains("test/images/0.jpg") || csv.contains("test/images/1.jpg"), "never exported as another class")
        XCTAssertTrue(export.stderr.contains("bad truth '2.5'"), export.stderr)
    }

    /// Issue #26 §10, the other halves: a row whose recorded class name (`truth_class`) disagrees with what the
    /// session's classes call its index is refused and named, never exported as the other class; a session class
    /// list that is empty or not a list of names stops the export with one line, instead of dropping every class
    /// and probability column.
    func testARecordedClassNameThatDisagreesLeavesTheRowOut() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        try execute(path, "UPDATE decision SET truth_class = 'Nonexistent' WHERE case_id = 'test/images/0.jpg'")
        let read = try ReviewStore(path: path, readOnly: true).readDecisions(reviewer: nil)
        XCTAssertFalse(read.decisions.map(\.caseID).contains("test/images/0.jpg"))
        XCTAssertTrue(read.problems.contains { $0.contains("test/images/0.jpg") && $0.contains("was written as \"Nonexistent\"") },
                      "\(read.problems)")
        let export = try Fracview.run(["export", "--db", path, "-o", dir + "/out.csv"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertFalse(((try? String(contentsOfFile: dir + "/out.csv", encoding: .utf8)) ?? "").contains("test/images/0.jpg"))
        XCTAssertTrue(export.stderr.contains("was written as \"Nonexistent\""), export.stderr)

        for damaged in ["'[]'", "'[1, 2]'", "'not json'", "'{}'"] {
            try execute(path, "UPDATE session SET classes = \(damaged)")
            let run = try Fracview.run(["export", "--db", path, "-o", dir + "/damaged.csv"])
            XCTAssertNotEqual(run.status, 0, damaged)
            XCTAssertTrue(run.stderr.contains("the session's class list is damaged"), "\(damaged): \(run.stderr)")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/damaged.csv"))
        }
    }

    func testNoteWithNULIsExportedWhole() throws {
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir, rows: 1)
        try execute(path, "UPDATE decision SET note = 'before' || char(0) || 'after'")
        let decision = try XCTUnwrap(ReviewStore(path: path).allDecisions(reviewer: nil).first)
        XCTAssertEqual(decision.note, "before\u{2400}after")
        let export = try Fracview.run(["export", "--db", path, "-o", dir + "/out.csv"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(try String(contentsOfFile: dir + "/out.csv", encoding: .utf8).contains("before\u{2400}after"))
    }

    func testExportOnADirectoryNamesIt() throws {
        let dir = try makeStoreTempDir(self)
        let export = try Fracview.run(["export", "--db", dir, "-o", dir + "/out.csv"])
        XCTAssertEqual(export.status, 1)
        XCTAssertTrue(export.stderr.contains("is a directory"), export.stderr)
        XCTAssertFalse(export.stderr.contains("disk I/O"), export.stderr)
    }

    /// Read-only opening is for exports from read-only media: a 0444 database in a folder the exporting user
    /// cannot write (so SQLite cannot create its WAL index there), read by another user. The export runs as
    /// `nobody` through setpriv, which needs root (as in CI).
    func testExportFromAFolderTheUserCannotWrite() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run the export as another user")
        }
        let dir = try makeStoreTempDir(self)
        let path = try makeDatabase(dir)
        // A committed decision still in the WAL (no checkpoint): the export must see it too.
        let keep = try DatabasePool(path: path)
        try keep.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        try keep.write { db in
            try db.execute(sql: "UPDATE decision SET note = 'in the wal' WHERE case_id = 'test/images/0.jpg'")
        }
        let copy = dir + "/frozen"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + "/review.sqlite" + suffix)
            chmod(copy + "/review.sqlite" + suffix, 0o444)
        }
        chmod(copy, 0o555)
        chmod(dir, 0o755)
        let out = NSTemporaryDirectory() + "fracview-ro-out-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        chmod(out, 0o777)
        defer { try? FileManager.default.removeItem(atPath: out) }
        // The binary where nobody can run it.
        let binary = out + "/fracview"
        try FileManager.default.copyItem(atPath: try Fracview.binary(), toPath: binary)
        let result = try Fracview.run(["--reuid=65534", "--regid=65534", "--clear-groups", binary, "export", "--db",
                                       copy + "/review.sqlite", "-o", out + "/out.csv"], executable: "/usr/bin/setpriv")
        XCTAssertEqual(result.status, 0, result.stderr)
        let csv = try String(contentsOfFile: out + "/out.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(whereSeparator: \.isNewline).count, 4, csv)
        XCTAssertTrue(csv.contains("in the wal"), csv)
        _ = keep
    }

    // MARK: under a memory limit

    /// `predict` and `audit` on the bad inputs under `ulimit -v 1 GB`: a clean exit with a message, never a
    /// signal (an allocation of the sizes these inputs used to ask for would be one).
    func testBadInputsFailCleanlyUnderAMemoryLimit() throws {
        let t = TempDir()
        let binary = try Fracview.binary()
        func limited(_ args: [String]) throws -> Fracview.Result {
            try Fracview.run(["-c", "ulimit -v 1048576; exec \"$0\" \"$@\"", binary] + args, executable: "/bin/bash")
        }
        let source = try SafeTensorsFile(path: RepoPaths.tinyWeights)
        for (key, value) in [("depth_mult", "1e18"), ("width_mult", "1e300"), ("head_channels", "1e30"), ("classes", "[]")] {
            var meta = source.metadata
            meta[key] = value
            var writer = SafeTensorsWriter(metadata: meta)
            for e in source.entries where e.dtype.isFloat { writer.add(e.name, shape: e.shape, values: try source.floats(e.name)) }
            let path = t.path + "/\(key).safetensors"
            try writer.write(to: path)
            let r = try limited(["predict", "--weights", path, AuditTests.sampleImages[0]])
            XCTAssertEqual(r.status, 1, "\(key)=\(value): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        // A shape whose byte count overflows.
        var header = Data("{\"x\":{\"dtype\":\"F16\",\"shape\":[4611686018427387904],\"data_offsets\":[0,2]}}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) })
        file.append(header); file.append(Data([0, 0]))
        FileManager.default.createFile(atPath: t.path + "/shape.safetensors", contents: file)
        let shape = try limited(["predict", "--weights", t.path + "/shape.safetensors", AuditTests.sampleImages[0]])
        XCTAssertEqual(shape.status, 1, shape.stderr)

        t.write("data/data.yaml", "names: {0: a, 999999999999: b}\n")
        t.write("data/test/images/x.jpg", try image())
        t.write("data/test/labels/x.txt", "2147483647 0.5 0.5 0.2 0.2\n")
        let audit = try limited(["audit", t.path + "/data"])
        XCTAssertLessThan(audit.status, 2, audit.stderr)
        XCTAssertTrue(audit.output.contains("999999999999"), audit.output)
    }
}
