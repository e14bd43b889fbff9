import Datasets
import Foundation
import Imaging

/// The images a model member trained on, as compact perceptual signatures, and the test "has it seen this X-ray
/// (or a flipped or rotated copy of it)?".
///
/// A signature is what the pool side of `NearDuplicateIndex` needs: the 8×8 coarse vector and the unrotated 38×38
/// centre crop of the image's 64×64 luma thumbnail, each rounded to UInt8 (1508 bytes). The weights metadata key
/// `training_signatures` holds `fracview-nd-v1:` + base64 of the signatures back to back (written by
/// training/export_weights.py, which computes the thumbnail as `Thumbnail` does). A query matches when its best fine
/// similarity (4 flips × −10…10° rotations, as the audit) reaches `NearDuplicateIndex.threshold` (0.90).
public struct TrainingSignatures: Sendable {
    public static let prefix = "fracview-nd-v1:"
    public static let coarseCount = NearDuplicateIndex.coarseSide * NearDuplicateIndex.coarseSide
    public static let centreCount = 4 * NearDuplicateIndex.cropHalf * NearDuplicateIndex.cropHalf
    public static let bytesPerSignature = coarseCount + centreCount

    public let count: Int
    /// Per signature: 4 flipped, normalised coarse vectors (64 floats each): every query ranks all of them.
    private let coarse: [Float]
    /// Per signature: the centre crop's bytes as stored. Only the best `candidateCount` are compared finely, so each
    /// is normalised when it is compared: kept as floats, a fold's centres were 7 MB (1,230 × 1,448 × 4 bytes),
    /// 36 MB for the shipped five folds; as bytes they are a quarter of that.
    private let centreBytes: [UInt8]

    /// Whether both hold the very same arrays (an ensemble parses a fold's signatures once for all its members).
    public func sharesStorage(with other: TrainingSignatures) -> Bool {
        coarse.withUnsafeBufferPointer { a in other.coarse.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }

    /// The bytes the parsed signatures hold (for the memory tests).
    public var heldBytes: Int { coarse.count * MemoryLayout<Float>.size + centreBytes.count }

    /// Parses the metadata value; the error names what is wrong (the caller adds the file and key).
    public init(metadataValue: String) throws {
        guard metadataValue.hasPrefix(Self.prefix) else {
            throw DatasetError("must start with \"\(Self.prefix)\"")
        }
        guard let data = Data(base64Encoded: String(metadataValue.dropFirst(Self.prefix.count))) else {
            throw DatasetError("is not valid base64")
        }
        guard data.count % Self.bytesPerSignature == 0 else {
            throw DatasetError("holds \(data.count) bytes, not a multiple of \(Self.bytesPerSignature)")
        }
        self.init(bytes: [UInt8](data))
    }

    /// Signatures from raw bytes (`bytesPerSignature` each).
    public init(bytes: [UInt8]) {
        let n = bytes.count / Self.bytesPerSignature
        let c2 = Self.coarseCount, cc = Self.centreCount
        var coarse = [Float](repeating: 0, count: n * 4 * c2)
        var centreBytes = [UInt8](repeating: 0, count: n * cc)
        for i in 0..<n {
            let base = i * Self.bytesPerSignature
            let small = (0..<c2).map { Float(bytes[base + $0]) }
            for (f, flip) in NearDuplicateIndex.flips.enumerated() {
                var v = NearDuplicateIndex.flipped(small, side: NearDuplicateIndex.coarseSide, h: flip.h, v: flip.v)
                NearDuplicateIndex.normalise(&v, count: c2)
                coarse.replaceSubrange((i * 4 + f) * c2 ..< (i * 4 + f + 1) * c2, with: v)
            }
            centreBytes.replaceSubrange(i * cc ..< (i + 1) * cc, with: bytes[(base + c2)..<(base + c2 + cc)])
        }
        count = n
        self.coarse = coarse
        self.centreBytes = centreBytes
    }

    /// Signature `j`'s centre, normalised and padded to `NearDuplicateIndex.cropLength`, into `centre`.
    private func normalisedCentre(_ j: Int, into centre: inout [Float]) {
        let cc = Self.centreCount
        for k in 0..<cc { centre[k] = Float(centreBytes[j * cc + k]) }
        for k in cc..<centre.count { centre[k] = 0 }
        NearDuplicateIndex.normalise(&centre, count: cc)
    }

    /// The signature bytes of a thumbnail (what the exporter writes for each training image).
    public static func bytes(of thumbnail: Thumbnail) -> [UInt8] {
        let (coarse, centre) = NearDuplicateIndex.coarseAndCentre(thumbnail.values)
        return (coarse + centre).map { UInt8(min(max($0.rounded(), 0), 255)) }
    }

    public static func metadataValue(bytes: [UInt8]) -> String { prefix + Data(bytes).base64EncodedString() }

    /// The query side of the match, computed once per case and reused for every member: the normalised coarse
    /// vector and the flipped and rotated centre crops (84 variants: the expensive part).
    public struct Query: Sendable {
        let coarse: [Float]
        let variants: [Float]
        public init(_ thumbnail: Thumbnail) {
            var q = NearDuplicateIndex.coarseAndCentre(thumbnail.values).coarse
            NearDuplicateIndex.normalise(&q, count: TrainingSignatures.coarseCount)
            coarse = q
            variants = NearDuplicateIndex.variants(of: thumbnail.values)
        }
    }

    /// The best fine similarity of the query to any signature (−1 when there are none).
    public func bestSimilarity(to query: Query) -> Float {
        guard count > 0 else { return -1 }
        let c2 = Self.coarseCount
        // Coarse ranking: the query's plain coarse vector against each signature's 4 flips.
        var scored: [(Float, Int)] = []
        scored.reserveCapacity(count)
        query.coarse.withUnsafeBufferPointer { qp in
            coarse.withUnsafeBufferPointer { cp in
                for j in 0..<count { scored.append((NearDuplicateIndex.bestCoarse(qp.baseAddress!, cp.baseAddress! + j * 4 * c2), j)) }
            }
        }
        scored.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        var best: Float = -1
        var centre = [Float](repeating: 0, count: NearDuplicateIndex.cropLength)
        for j in scored.prefix(NearDuplicateIndex.candidateCount).map(\.1) {
            normalisedCentre(j, into: &centre)
            best = max(best, NearDuplicateIndex.bestFine(variants: query.variants, centres: centre, at: 0))
        }
        return best
    }

    /// Whether the image is one of the signatures' images or a flipped/rotated copy of one.
    public func contains(_ query: Query) -> Bool {
        bestSimilarity(to: query) >= NearDuplicateIndex.threshold
    }
}
