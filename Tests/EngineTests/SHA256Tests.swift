import Foundation
@testable import Model
import XCTest

/// The weights id and cache keys are swift-crypto's SHA-256: FIPS 180-4 vectors, and Python hashlib's digest of a
/// fixture file (a weights id must stay the same across fracview versions, or every cache entry is lost).
final class SHA256Tests: XCTestCase {
    private func hex(_ s: String) -> String { ContentDigest.sha256Hex(Data(s.utf8)) }

    func testKnownVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testFileDigestEqualsPythonHashlibAndTheWeightsID() throws {
        let path = Fixtures.path("model_tiny_lite0.safetensors")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let digests = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory
            .appendingPathComponent("sha256.json"))) as! [String: String]
        let expected = try XCTUnwrap(digests["model_tiny_lite0.safetensors"])
        XCTAssertEqual(ContentDigest.sha256Hex(data), expected)
        XCTAssertEqual(try FractureClassifier(contentsOf: path).info.weightsID, String(expected.prefix(16)))
    }
}
