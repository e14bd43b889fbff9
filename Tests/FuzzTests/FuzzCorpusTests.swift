import Foundation
@testable import FuzzHarnesses
import XCTest

/// Every harness over its committed seed corpus and crash regressions (Tests/Fuzz/corpus/HARNESS,
/// Tests/Fuzz/regressions/HARNESS), then over deterministic mutations of the seeds: the fallback fuzzer that runs
/// in every `swift test`, without libFuzzer. A trap in a parser fails (crashes) this test.
final class FuzzCorpusTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ harness: Harness, _ kind: String) -> [[UInt8]] {
        let dir = root.appendingPathComponent(kind).appendingPathComponent(harness.rawValue)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        return names.compactMap { try? Data(contentsOf: dir.appendingPathComponent($0)) }.map { Array($0) }
    }

    /// Mutations libFuzzer also makes: bit flips, byte changes to interesting values, inserts, deletes,
    /// duplicated chunks, splices of two seeds.
    static func mutate(_ seed: [UInt8], _ other: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = seed
        let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x1B, 0x22, 0x2C, 0x3A, 0x5B, 0x5D, 0x7B, 0x7D, 0x39, 0x2D, 0x65]
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 6 {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1 << (rng.next() % 8))
            case 1 where !b.isEmpty: b[at] = interesting[Int(rng.next() % UInt64(interesting.count))]
            case 2: b.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 3 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + 1 + Int(rng.next() % 16)))
            case 4 where !b.isEmpty:
                let end = min(b.count, at + 1 + Int(rng.next() % 32))
                b.insert(contentsOf: Array(b[at..<end]), at: at)
            default:
                let cut = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
                b = Array(b[..<at]) + Array(other[cut...])
            }
        }
        return b
    }

    func check(_ harness: Harness, mutations: Int) throws {
        let seeds = Self.inputs(harness, "corpus")
        XCTAssertFalse(seeds.isEmpty, "no seed corpus for \(harness)")
        for input in seeds + Self.inputs(harness, "regressions") { harness.run(input) }
        var rng = SplitMix64(seed: 0xF2AC_715E ^ UInt64(harness.rawValue.count))
        for i in 0..<mutations {
            let seed = seeds[i % seeds.count], other = seeds[Int(rng.next() % UInt64(seeds.count))]
            harness.run(Self.mutate(seed, other, &rng))
        }
    }

    func testWeights() throws { try check(.weights, mutations: 2000) }
    func testImage() throws { try check(.image, mutations: 2000) }
    func testDicom() throws { try check(.dicom, mutations: 2000) }
    func testDataset() throws { try check(.dataset, mutations: 2000) }
    func testDatabase() throws { try check(.database, mutations: 500) }
    func testInput() throws { try check(.input, mutations: 10000) }
    func testYAML() throws { try check(.yaml, mutations: 5000) }
    func testDICOMweb() throws { try check(.dicomweb, mutations: 5000) }

    /// Every harness has its seeds, and the CI fuzz step runs it (scripts/fuzz.sh's list).
    func testEveryHarnessIsSeededAndFuzzedInCI() throws {
        let script = try String(contentsOf: Self.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/fuzz.sh"), encoding: .utf8)
        let line = try XCTUnwrap(script.split(separator: "\n").first { $0.hasPrefix("harnesses=(") })
        for harness in Harness.allCases {
            XCTAssertFalse(Self.inputs(harness, "corpus").isEmpty, "\(harness) has no seeds")
            XCTAssertTrue(line.split(whereSeparator: { "() ".contains($0) }).contains { $0 == harness.rawValue }, "\(harness) is not in \(line)")
        }
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
