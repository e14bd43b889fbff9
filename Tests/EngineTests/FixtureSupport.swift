import CEngineKernels
import Engine
import Foundation
@testable import Model
import XCTest

/// Locates and reads the PyTorch reference fixtures written by scripts/fixtures/make_engine_fixtures.py.
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = repoRoot.appendingPathComponent("Tests/Fixtures/engine")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func open(_ name: String) throws -> SafeTensorsFile { try SafeTensorsFile(path: path(name + ".safetensors")) }

    static let inputNames = ["101", "105", "108"]
}

extension SafeTensorsFile {
    func tensor(_ name: String) throws -> Tensor {
        guard let e = entry(name) else { throw WeightsError(path: path, reason: "fixture lacks \(name)") }
        return Tensor(shape: e.shape, values: try floats(name))
    }

    func int(_ key: String) -> Int { Int(metadata[key] ?? "") ?? -1 }
}

/// Tolerances (docs/engine.md): ops compare with max |a − b| / max |ref| ≤ 1e-4, i.e. relative to the largest
/// reference magnitude, so values near zero don't blow the ratio up.
func maxRelativeError(_ a: [Float], _ ref: [Float]) -> Float {
    precondition(a.count == ref.count, "size mismatch \(a.count) vs \(ref.count)")
    let scale = max(ref.map { abs($0) }.max() ?? 0, 1e-6)
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - ref[i])) }
    return worst / scale
}

func maxAbsoluteError(_ a: [Float], _ ref: [Float]) -> Float {
    precondition(a.count == ref.count, "size mismatch \(a.count) vs \(ref.count)")
    return zip(a, ref).map { abs($0 - $1) }.max() ?? 0
}

func correlation(_ a: [Float], _ b: [Float]) -> Double {
    let n = Double(a.count)
    let ma = a.reduce(0) { $0 + Double($1) } / n, mb = b.reduce(0) { $0 + Double($1) } / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for i in a.indices {
        let x = Double(a[i]) - ma, y = Double(b[i]) - mb
        sab += x * y; saa += x * x; sbb += y * y
    }
    return sab / max((saa * sbb).squareRoot(), 1e-30)
}

func XCTAssertClose(_ a: [Float], _ ref: [Float], tolerance: Float = 1e-4, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, ref.count, "\(what): size", file: file, line: line)
    guard a.count == ref.count else { return }
    let e = maxRelativeError(a, ref)
    XCTAssertLessThanOrEqual(e, tolerance, "\(what): max relative error \(e)", file: file, line: line)
}

/// The instruction sets the kernels dispatch to, by their FV_ISA_* number.
let isaNames = [Int32(FV_ISA_BASELINE): "baseline", Int32(FV_ISA_AVX2): "AVX2", Int32(FV_ISA_AVX512): "AVX-512"]

/// Runs `body` once per instruction set, each forced; unsupported ones are reported, not silently skipped.
func forEachISA(_ body: (String) throws -> Void) rethrows {
    let saved = fv_current_isa()
    defer { _ = fv_force_isa(saved) }
    for isa in [Int32(FV_ISA_BASELINE), Int32(FV_ISA_AVX2), Int32(FV_ISA_AVX512)] {
        guard isa <= fv_supported_isa() else {
            print("\(isaNames[isa]!) not supported by this CPU; not checked")
            continue
        }
        _ = fv_force_isa(isa)
        XCTAssertEqual(fv_current_isa(), isa)
        try body(isaNames[isa]!)
    }
}
