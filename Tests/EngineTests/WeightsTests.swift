import Engine
import Foundation
@testable import Model
import XCTest

/// Damaged and mismatched weights files each give a one-line error naming the file and the first bad tensor.
final class WeightsTests: XCTestCase {
    private var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// The tiny B0 fixture re-encoded through SafeTensorsWriter, with `edit` applied to its tensors/metadata.
    private func variant(_ name: String, dtype: SafeTensorsDType = .f32,
                         edit: (inout [(String, [Int], [Float])], inout [String: String]) -> Void = { _, _ in }) throws -> String {
        let src = try SafeTensorsFile(path: Fixtures.path("model_tiny_b0.safetensors"))
        var tensors = try src.entries.filter { $0.dtype.isFloat }.map { ($0.name, $0.shape, try src.floats($0.name)) }
        var meta = src.metadata
        edit(&tensors, &meta)
        var w = SafeTensorsWriter(metadata: meta)
        for (n, s, v) in tensors { w.add(n, shape: s, values: v, dtype: dtype) }
        let path = tmp.appendingPathComponent(name).path
        try w.write(to: path)
        return path
    }

    private func loadError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try FractureClassifier(contentsOf: path)
            XCTFail("loading \(path) should fail", file: file, line: line)
            return ""
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "error must be one line: \(text)", file: file, line: line)
            XCTAssertTrue(text.hasPrefix(path), "error must name the file: \(text)", file: file, line: line)
            return text
        }
    }

    func testReencodedF32LoadsAndMatches() throws {
        let path = try variant("f32.safetensors")
        let a = try FractureClassifier(contentsOf: path)
        let b = try FractureClassifier(contentsOf: Fixtures.path("model_tiny_b0.safetensors"))
        let x = try Fixtures.open("input_101").floats("input")
        XCTAssertEqual(a.run(input: x, maps: .none).logits, b.run(input: x, maps: .none).logits)
        XCTAssertNotEqual(a.info.weightsID, b.info.weightsID, "different bytes, different id")
    }

    func testF16AndBF16RoundTrip() throws {
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 3.14159, -1e-3, 1e4]
        for dtype in [SafeTensorsDType.f16, .bf16] {
            var w = SafeTensorsWriter(metadata: ["k": "v"])
            w.add("t", shape: [2, 5], values: values, dtype: dtype)
            let path = tmp.appendingPathComponent("rt-\(dtype.rawValue).safetensors").path
            try w.write(to: path)
            let f = try SafeTensorsFile(path: path)
            XCTAssertEqual(f.entry("t")?.dtype, dtype)
            XCTAssertEqual(f.entry("t")?.shape, [2, 5])
            XCTAssertEqual(f.metadata, ["k": "v"])
            let back = try f.floats("t")
            for (a, b) in zip(values, back) {
                let tol: Float = dtype == .f16 ? max(abs(a) * 1e-3, 6e-8) : abs(a) * 4e-3
                XCTAssertEqual(a, b, accuracy: tol, "\(dtype) \(a)")
            }
            // A value that is exact in both formats survives unchanged.
            XCTAssertEqual(back[3], -2.5)
        }
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertEqual(halfToFloat(0x0001), 5.960464477539063e-08)
        XCTAssertEqual(halfToFloat(0x7C00), .infinity)
    }

    func testModelStoredAsF16AndBF16() throws {
        let ref = try FractureClassifier(contentsOf: Fixtures.path("model_tiny_b0.safetensors"))  // stored F16
        let x = try Fixtures.open("input_105").floats("input")
        let p16 = try FractureClassifier(contentsOf: try variant("f16.safetensors", dtype: .f16)).run(input: x, maps: .none)
        XCTAssertEqual(p16.logits, ref.run(input: x, maps: .none).logits, "F16 values survive F16 → F32 → F16 exactly")
        let pb = try FractureClassifier(contentsOf: try variant("bf16.safetensors", dtype: .bf16)).run(input: x, maps: .none)
        // BF16 keeps 8 bits of mantissa: the same model, near the F16 one's outputs (a few percent of the largest logit)
        // but not equal to them.
        let pr = ref.run(input: x, maps: .none)
        XCTAssertEqual(pb.probabilities.count, pr.probabilities.count)
        let logitDiff = zip(pb.logits, pr.logits).map { abs($0 - $1) }.max()!
        let logitScale = pr.logits.map(abs).max()!
        print("BF16 vs F16 model: max logit difference \(logitDiff) (logits up to \(logitScale))")
        XCTAssertGreaterThan(logitDiff, 0, "the BF16 file must really be read as BF16")
        XCTAssertLessThan(logitDiff, 0.05 * max(1, logitScale), "BF16 rounding moves the logits by a few percent at most")
        XCTAssertEqual(zip(pb.probabilities, pr.probabilities).map { abs($0 - $1) }.max()!, 0, accuracy: 0.02)
    }

    func testTruncatedFile() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("model_tiny_b0.safetensors")))
        let path = tmp.appendingPathComponent("truncated.safetensors").path
        try data.prefix(data.count - 1000).write(to: URL(fileURLWithPath: path))
        let e = loadError(path)
        XCTAssertTrue(e.contains("truncated"), e)
        XCTAssertTrue(e.contains("tensor "), "names a tensor: \(e)")
    }

    func testHeaderLongerThanFile() throws {
        var data = Data()
        withUnsafeBytes(of: UInt64(1 << 20).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array("{\"a\":1}".utf8))
        let path = tmp.appendingPathComponent("long-header.safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(loadError(path).contains("header length"))
    }

    func testEmptyFileAndDirectoryAndMissing() throws {
        let empty = tmp.appendingPathComponent("empty.safetensors").path
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertTrue(loadError(empty).contains("truncated"))
        XCTAssertTrue(loadError(tmp.path).contains("directory"))
        XCTAssertTrue(loadError(tmp.appendingPathComponent("nope.safetensors").path).contains("no such file"))
    }

    /// Issue #26: two tensors whose data_offsets overlap were accepted (one read the other's bytes).
    func testOverlappingTensorsAreRefused() throws {
        var data = Data()
        let header = Array(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#.utf8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        data.append(Data(count: 12))
        let path = tmp.appendingPathComponent("overlap.safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        let e = loadError(path)
        XCTAssertTrue(e.contains("tensors a and b overlap"), e)
    }

    func testBadJSONHeader() throws {
        var data = Data()
        let header = Array("{\"x\": [1, 2".utf8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        let path = tmp.appendingPathComponent("badjson.safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(loadError(path).contains("JSON"))
    }

    func testMissingTensorIsNamed() throws {
        let path = try variant("missing.safetensors") { t, _ in t.removeAll { $0.0 == "base_model.features.2.0.block.1.1.running_var" } }
        let e = loadError(path)
        XCTAssertTrue(e.contains("missing tensor base_model.features.2.0.block.1.1.running_var"), e)
    }

    func testWrongShapeIsNamed() throws {
        let path = try variant("shape.safetensors") { t, _ in
            let i = t.firstIndex { $0.0 == "attention_gate.0.weight" }!
            t[i].1 = [t[i].1[0], t[i].1[1], 1]
        }
        let e = loadError(path)
        XCTAssertTrue(e.contains("attention_gate.0.weight") && e.contains("shape"), e)
    }

    func testClassCountMustMatchLastLayer() throws {
        let path = try variant("classes.safetensors") { _, m in m["classes"] = "[\"a\", \"b\", \"c\"]" }
        XCTAssertTrue(loadError(path).contains("classifier.4.weight"))
    }

    func testUnknownArchitectureAndWrongFamily() throws {
        let unknown = try variant("arch.safetensors") { _, m in m["architecture"] = "resnet50" }
        XCTAssertTrue(loadError(unknown).contains("unknown architecture \"resnet50\""))
        // A B0 file declared as Lite: the first mismatch is named (Lite has no SE; indices shift).
        let lite = try variant("lite.safetensors") { _, m in m["architecture"] = "efficientnet_lite0" }
        XCTAssertTrue(loadError(lite).contains("base_model.features."))
    }

    func testMalformedMetadata() throws {
        let path = try variant("meta.safetensors") { _, m in m["input_size"] = "[224" }
        XCTAssertTrue(loadError(path).contains("input_size"))
    }

    func testMissingMetadataGetsNotebookDefaults() throws {
        let path = try variant("nometa.safetensors") { _, m in
            m = ["architecture": "efficientnet_b0", "width_mult": "0.25", "depth_mult": "0.25"]
        }
        let m = try FractureClassifier(contentsOf: path)
        XCTAssertEqual(m.info.classes.count, 10)
        XCTAssertEqual(m.info.classes[8], "Transverse Displaced")
        XCTAssertEqual(m.info.inputSize, [224, 224])
        XCTAssertEqual(m.info.std, [0.229, 0.224, 0.225])
    }

    func testNonFloatTensorsAreIgnoredUnlessUsed() throws {
        // The fixture keeps PyTorch's I64 num_batches_tracked entries; they load fine.
        let f = try SafeTensorsFile(path: Fixtures.path("model_tiny_b0.safetensors"))
        XCTAssertTrue(f.entries.contains { $0.dtype == .i64 })
        XCTAssertNoThrow(try FractureClassifier(contentsOf: Fixtures.path("model_tiny_b0.safetensors")))
    }

    func testDefaultWeightsHonoursEnvironment() throws {
        setenv("FRACVIEW_WEIGHTS", "/some/where.safetensors", 1)
        defer { unsetenv("FRACVIEW_WEIGHTS") }
        XCTAssertEqual(DefaultWeights.locate(), "/some/where.safetensors")
    }
}

/// Issue #15's weights traps: each a one-line error, never a crash, a hang or a silently wrong read.
final class WeightsParserTrapTests: XCTestCase {
    private var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-traps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// A file with this JSON header and `data` bytes of payload.
    private func file(_ name: String, header: String, data: Int = 16) throws -> String {
        var bytes = Data()
        let h = Array(header.utf8)
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: h)
        bytes.append(Data(count: data))
        let path = tmp.appendingPathComponent(name).path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    private func error(_ path: String) -> String {
        do { _ = try SafeTensorsFile(path: path); return "" } catch { return "\(error)" }
    }

    func testOverflowingShapeIsRefused() throws {
        let p = try file("big.safetensors", header: #"{"w": {"dtype": "F16", "shape": [4611686018427387904], "data_offsets": [0, 16]}}"#)
        XCTAssertTrue(error(p).contains("too large"), error(p))
        let p2 = try file("big2.safetensors", header: #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}}"#)
        XCTAssertTrue(error(p2).contains("too large"), error(p2))
    }

    func testOffsetsAndShapesBeyondInt64AreRefusedNotWrapped() throws {
        // 2^64 + 5 used to be read as 5.
        let p = try file("wrap.safetensors", header: #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [18446744073709551621, 18446744073709551625]}}"#)
        XCTAssertTrue(error(p).contains("data_offsets"), error(p))
        let p2 = try file("wrap2.safetensors", header: #"{"w": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 0]}}"#)
        XCTAssertTrue(error(p2).contains("shape"), error(p2))
    }

    func testFirstErrorDoesNotDependOnDictionaryOrder() throws {
        let p = try file("order.safetensors", header: #"{"b": {"dtype": "X1", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "X2", "shape": [1], "data_offsets": [0, 4]}}"#)
        for _ in 0..<10 { XCTAssertTrue(error(p).contains("tensor a: unsupported dtype X2"), error(p)) }
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        let path = tmp.appendingPathComponent("fifo.safetensors").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertTrue(error(path).contains("not a regular file"), error(path))
    }

    func testHugeMetadataNumbersAreBounded() throws {
        for (key, value) in [("head_channels", "1e30"), ("width_mult", "1e30"), ("depth_mult", "1e300"), ("depth_mult", "1e18"),
                             ("bn_eps", "2"), ("mean", "[0.5, 1e300, 0.5]"), ("std", "[0.2, 1e300, 0.2]"),
                             ("std", "[0.2, 1e-300, 0.2]"), ("std", "[0.2, 0, 0.2]")] {
            let fail = { (r: String) -> Error in WeightsError(path: "x", reason: r) }
            XCTAssertThrowsError(try ModelMetadata([key: value, "architecture": "efficientnet_b0"], fail: fail)) { e in
                XCTAssertTrue("\(e)".contains(key) && "\(e)".contains("…"), "\(e)")
            }
        }
    }
}
