@testable import Datasets
import Foundation
import XCTest

/// `fracview audit` and `fracview evaluate` end to end, when the binary was built beside the test bundle.
final class CommandLineTests: XCTestCase {
    func testAuditJSONAndManifestOnABadDataset() throws {
        let t = TempDir()
        t.write("data.yaml", "nc: 11\nnames: [a, b]\n")
        t.write("train/images/x_jpg.rf.1.jpg", try Data(contentsOf: URL(fileURLWithPath: AuditTests.sampleImages[0])))
        t.write("train/labels/x_jpg.rf.1.txt", "0 0.5 0.5 0.2\n")
        t.write("test/images/x_jpg.rf.2.jpg", try Data(contentsOf: URL(fileURLWithPath: AuditTests.sampleImages[0])))
        t.write("test/labels/x_jpg.rf.2.txt", "1 0.5 0.5 0.2 0.2\n")
        let result = try Fracview.run(["audit", t.path, "--json", "--write-split", t.path + "/split.csv"])
        XCTAssertEqual(result.status, 0, "problems are reported, not fatal: \(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        XCTAssertTrue((json["problems"] as! [String]).contains { $0.contains("`nc` is 11") })
        let splits = json["splits"] as! [String: [String: Any]]
        XCTAssertEqual(splits["train"]?["unlabelled"] as? [String], ["train/images/x_jpg.rf.1.jpg"])
        let leaked = splits["test"]?["leaked"] as! [[String: Any]]
        XCTAssertEqual(leaked.first?["twin"] as? String, "train/images/x_jpg.rf.1.jpg")
        XCTAssertEqual(leaked.first?["exact"] as? Bool, true)
        let manifest = try SplitManifest.read(path: t.path + "/split.csv")
        XCTAssertEqual(manifest.count, 2)
        XCTAssertEqual(manifest["train/images/x_jpg.rf.1.jpg"], manifest["test/images/x_jpg.rf.2.jpg"])

        let missing = try Fracview.run(["audit", t.path + "/nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    func testAuditTextNeutralisesBidiOverridesInFileNames() throws {
        let t = TempDir()
        t.write("data.yaml", tenClassesYAML)
        // U+202E would show "gpj.exe" reversed; U+2028 would break the line.
        t.write("test/images/a\u{202E}gpj.exe\u{2028}x.jpg", try Data(contentsOf: URL(fileURLWithPath: AuditTests.sampleImages[0])))
        t.write("test/labels/a\u{202E}gpj.exe\u{2028}x.txt", "0 0.5 0.5\n") // a bad line: the text names the file
        let result = try Fracview.run(["audit", t.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("test/labels/a?gpj.exe?x.txt: line 1"), text)
        XCTAssertFalse((text + result.stderr).unicodeScalars.contains { [0x202E, 0x2028, 0x1B].contains($0.value) }, text)
    }

    /// scripts/bench.sh's head-to-head drives `bench --serve-bursts`: one JSON line of N forward times per count
    /// read, with the kernels that ran them (the head-to-head checks them against the peers' cap), and the first
    /// line that is not a count in 1…10,000 ends it.
    func testBenchServesBurstsOfForwardsUntilALineIsNotACount() throws {
        let weights = RepoPaths.tinyWeights
        guard FileManager.default.fileExists(atPath: weights) else {
            throw MissingFromTheBuild("the committed engine test weights are missing")
        }
        let result = try Fracview.run(["bench", "--weights", weights, "--serve-bursts"],
                                      environment: ProcessInfo.processInfo.environment.merging(["FRACVIEW_MAX_ISA": "baseline"]) { $1 },
                                      input: Data("3\n 2 \n0\n4\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "0 is not a count: the loop ends before the 4")
        let answers = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let bursts = answers.map { $0["ms"] as? [Double] }
        XCTAssertEqual(bursts.map { $0?.count }, [3, 2])
        XCTAssertTrue(bursts.allSatisfy { $0?.allSatisfy { $0 > 0 && $0 < 10_000 } ?? false }, "\(bursts)")
        XCTAssertEqual(answers.map { $0["kernels"] as? String }, ["baseline", "baseline"])
    }

    /// `bench --member` serves any member of a pipeline folder to the head-to-head, at that member's input size: the
    /// shipped localiser reads a 3×320×320 tensor (the classifiers' 224×224 one is refused with the size it
    /// expected), a name the folder lacks is a one-line error, and --member needs --serve-bursts.
    func testBenchServesALocaliserMemberAtItsOwnInputSize() throws {
        let folder = RepoPaths.root.appendingPathComponent("weights/fracture-classifier").path
        guard FileManager.default.fileExists(atPath: folder + "/localiser-fold-0.safetensors") else {
            throw MissingFromTheBuild("the shipped weights are missing")
        }
        let t = TempDir()
        for side in [320, 224] {
            t.write("x\(side).f32", Data(count: 3 * side * side * 4))
        }
        let env = ProcessInfo.processInfo.environment.merging(["FRACVIEW_MAX_ISA": "baseline", "OPENBLAS_NUM_THREADS": "1"]) { $1 }
        let served = try Fracview.run(["bench", "--weights", folder, "--member", "localiser-fold-0.safetensors",
                                       "--input-tensor", t.path + "/x320.f32", "--serve-bursts", "--warmup", "1"],
                                      environment: env, input: Data("2\n".utf8))
        XCTAssertEqual(served.status, 0, served.stderr)
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(served.stdout)) as? [String: Any])
        XCTAssertEqual((answer["ms"] as? [Double])?.count, 2, "\(answer)")

        let wrongSize = try Fracview.run(["bench", "--weights", folder, "--member", "localiser-fold-0.safetensors",
                                          "--input-tensor", t.path + "/x224.f32", "--serve-bursts"], environment: env, input: Data())
        XCTAssertNotEqual(wrongSize.status, 0)
        XCTAssertTrue(wrongSize.stderr.contains("3×320×320"), wrongSize.stderr)

        let missing = try Fracview.run(["bench", "--weights", folder, "--member", "localiser-fold-9.safetensors",
                                        "--serve-bursts"], environment: env, input: Data())
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--member localiser-fold-9.safetensors: no such member"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)

        let alone = try Fracview.run(["bench", "--weights", folder, "--member", "fold-0.safetensors"], environment: env)
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("--member goes with --serve-bursts"), alone.stderr)
    }

    /// Issue #26 §13: libpq's URI errors quote the text as given; a percent-encoded NUL in the password once
    /// printed it. No error path may echo any part of the userinfo (no server is needed: libpq refuses these URIs).
    func testMalformedPostgresURLsNeverEchoTheirPassword() throws {
        let t = TempDir()
        for url in ["postgres://alice:S3CRET%00PW@127.0.0.1:1/x", "postgres://alice:S3CRET%zzPW@127.0.0.1:1/x",
                    "postgres://alice:S3CRET%0@127.0.0.1:1/x", "postgresql://alice:S3CRET%00PW@[::1/x",
                    "postgres://127.0.0.1:1/x?password=S3CRET%00PW", "postgres://alice:S3CRET%00PW@127.0.0.1:1/x?sslmode=bogus"] {
            let result = try Fracview.run(["export", "--db", url, "-o", t.path + "/out.csv"])
            XCTAssertNotEqual(result.status, 0, url)
            XCTAssertFalse(result.output.isEmpty, url)
            for secret in ["S3CRET", "PW@", "%00PW", "%zzPW"] {
                XCTAssertFalse(result.output.contains(secret), "\(url) → \(result.output)")
            }
        }
    }

    /// Issue #26 §7: `--db` naming a FIFO made export and agreement block forever; a device is refused the same way.
    func testADatabaseThatIsAFIFOOrADeviceIsRefusedAtOnce() throws {
        let t = TempDir()
        XCTAssertEqual(mkfifo(t.path + "/db.fifo", 0o644), 0)
        for db in [t.path + "/db.fifo", "/dev/null"] {
            for args in [["export", "--db", db, "-o", t.path + "/out.csv"], ["agreement", "--db", db]] {
                let start = Date()
                let result = try Fracview.run(args)
                XCTAssertNotEqual(result.status, 0, "\(args)")
                XCTAssertTrue(result.stderr.contains("not a review database"), result.stderr)
                XCTAssertLessThan(Date().timeIntervalSince(start), 10, "at once, not after a hang")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/out.csv"))
    }

    func testEvaluateJSONAndOutputsOnTheBundledSample() throws {
        let weights = RepoPaths.tinyWeights
        guard FileManager.default.fileExists(atPath: weights) else {
            throw MissingFromTheBuild("the committed engine test weights are missing")
        }
        let t = TempDir()
        let result = try Fracview.run(["evaluate", RepoPaths.sample, "--weights", weights, "--json", "--out", t.path + "/out"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        for key in ["classes", "accuracy", "macro_f1", "confusion_matrix", "critical_errors", "ece", "n"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertEqual(json["n"] as? Int, 64)
        XCTAssertTrue(json["temperature"] is NSNull, "the sample has no valid split")
        XCTAssertTrue((json["temperature_note"] as? String)?.contains("no valid split") ?? false)
        for file in ["confusion-matrix.png", "reliability.png", "cases.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/out/" + file), file)
        }
        let rows = try String(contentsOfFile: t.path + "/out/cases.csv", encoding: .utf8).components(separatedBy: "\r\n")
        XCTAssertEqual(rows.filter { !$0.isEmpty }.count, 65)
        // held_out marks what the metrics count; cam_x, cam_y place the Grad-CAM's maximum in the 640×640 image.
        let header = rows[0].split(separator: ",").map(String.init)
        let cells = rows[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(header[5...7]), ["held_out", "cam_x", "cam_y"])
        XCTAssertEqual(cells[5], "yes", "the tiny test model has no training record: every case counts")
        let (x, y) = (try XCTUnwrap(Double(cells[6])), try XCTUnwrap(Double(cells[7])))
        XCTAssertTrue((0...640).contains(x) && (0...640).contains(y), "\(x), \(y)")

        var env = ProcessInfo.processInfo.environment
        env["FRACVIEW_WEIGHTS"] = t.path + "/none.safetensors"
        let noWeights = try Fracview.run(["evaluate", RepoPaths.sample, "--weights", t.path + "/none.safetensors"], environment: env)
        XCTAssertEqual(noWeights.status, 1)
        XCTAssertFalse(noWeights.stderr.isEmpty)
    }
}
