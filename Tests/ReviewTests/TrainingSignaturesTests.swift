@testable import Audit
import Foundation
import Imaging
@testable import Model
import XCTest

/// The training signatures a loaded member holds: the centre crops stay bytes until one is compared, and that gives
/// the very similarities the float copy gave (the ensemble's "has it seen this image" must not move).
final class TrainingSignaturesTests: XCTestCase {
    private static let shipped = RepoPaths.root.appendingPathComponent("weights/fracture-classifier").path

    /// The signatures as they were held before: every centre normalised into floats at load time.
    private struct FloatReference {
        let count: Int, coarse: [Float], centres: [Float]
        init(bytes: [UInt8]) {
            let per = TrainingSignatures.bytesPerSignature, c2 = TrainingSignatures.coarseCount
            let cc = TrainingSignatures.centreCount, cl = NearDuplicateIndex.cropLength
            count = bytes.count / per
            var coarse = [Float](), centres = [Float]()
            for i in 0..<count {
                let small = (0..<c2).map { Float(bytes[i * per + $0]) }
                for flip in NearDuplicateIndex.flips {
                    var v = NearDuplicateIndex.flipped(small, side: NearDuplicateIndex.coarseSide, h: flip.h, v: flip.v)
                    NearDuplicateIndex.normalise(&v, count: c2)
                    coarse += v
                }
                var centre = [Float](repeating: 0, count: cl)
                for k in 0..<cc { centre[k] = Float(bytes[i * per + c2 + k]) }
                NearDuplicateIndex.normalise(&centre, count: cc)
                centres += centre
            }
            self.coarse = coarse; self.centres = centres
        }
        func bestSimilarity(_ q: TrainingSignatures.Query) -> Float {
            let c2 = TrainingSignatures.coarseCount
            var scored: [(Float, Int)] = []
            q.coarse.withUnsafeBufferPointer { qp in
                coarse.withUnsafeBufferPointer { cp in
                    for j in 0..<count { scored.append((NearDuplicateIndex.bestCoarse(qp.baseAddress!, cp.baseAddress! + j * 4 * c2), j)) }
                }
            }
            scored.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            return scored.prefix(NearDuplicateIndex.candidateCount).map {
                NearDuplicateIndex.bestFine(variants: q.variants, centres: centres, at: $0.1)
            }.max() ?? -1
        }
    }

    func testTheShippedSignaturesGiveTheFloatCopysSimilaritiesInAQuarterOfItsBytes() throws {
        let file = try SafeTensorsFile(path: Self.shipped + "/fold-0.safetensors")
        let raw = try XCTUnwrap(file.metadata["training_signatures"])
        let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: String(raw.dropFirst(TrainingSignatures.prefix.count)))))
        let signatures = try TrainingSignatures(metadataValue: raw)
        let reference = FloatReference(bytes: bytes)
        XCTAssertEqual(signatures.count, reference.count)
        XCTAssertGreaterThan(signatures.count, 1000, "a fold trains on ~1,230 images")

        let floatBytes = (reference.coarse.count + reference.centres.count) * MemoryLayout<Float>.size
        XCTAssertLessThan(signatures.heldBytes * 5, floatBytes * 2,
                          "\(signatures.heldBytes) bytes held, the float copy \(floatBytes)")

        // The bundled sample's images (test-split images: some in fold 0's training folds, some not) and flipped
        // copies of them: every similarity the same float, so every seen/unseen call the same.
        let folder = RepoPaths.sample + "/test/images"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }.sorted()
        XCTAssertGreaterThan(names.count, 10)
        var seen = 0, unseen = 0
        for name in names.prefix(16) {
            let image = try ImageDecoder.decode(path: folder + "/" + name)
            for thumbnail in [Thumbnail(image), Thumbnail(Self.flippedHorizontally(image))] {
                let query = TrainingSignatures.Query(thumbnail)
                let similarity = signatures.bestSimilarity(to: query)
                XCTAssertEqual(similarity, reference.bestSimilarity(query), "\(name)")
                if similarity >= NearDuplicateIndex.threshold { seen += 1 } else { unseen += 1 }
            }
        }
        XCTAssertGreaterThan(seen, 0, "some sample images are fold 0's training images")
        XCTAssertGreaterThan(unseen, 0, "and some are not")
    }

    private static func flippedHorizontally(_ image: RGBImage) -> RGBImage {
        var out = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 { out.pixels[(y * image.width + x) * 3 + c] = image.pixels[(y * image.width + image.width - 1 - x) * 3 + c] }
            }
        }
        return out
    }
}
