import Foundation
import XCTest
@testable import Model

final class SHA256Tests: XCTestCase {
    private func hex(_ s: String) -> String {
        Array(s.utf8).withUnsafeBytes { SHA256.hex(SHA256.hash($0)) }
    }

    func testKnownVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testIncrementalEqualsOneShotAndPythonHashlib() throws {
        let path = Fixtures.path("model_tiny_lite0.safetensors")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var h = SHA256()
        var i = 0
        while i < data.count {  // odd chunk sizes cross the 64-byte blocks
            let j = min(data.count, i + 1000 + i % 61)
            data[i..<j].withUnsafeBytes { h.update($0) }
            i = j
        }
        let digests = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory
            .appendingPathComponent("sha256.json"))) as! [String: String]
        XCTAssertEqual(SHA256.hex(h.finalize()), digests["model_tiny_lite0.safetensors"])
    }
}
