import Basics
import Foundation
import GRDB
import Model

/// One row of the prediction cache, keyed by (image content hash, weights id), through GRDB's Codable records
/// (`StoreRecord`'s conventions).
/// Probabilities are `StoreJSON` text like the decisions' (v4; Float32 BLOBs before), the maps Float32 BLOBs.
/// The `gradcam` BLOB holds every CAM method's map, back to back in `CAMMethod.all` order (each
/// gradcam_width × gradcam_height); a row from before the other methods holds Grad-CAM alone, and reads as a
/// prediction with that one map (the runner then recomputes it).
struct PredictionCacheRecord: Codable, StoreRecord {
    typealias StoredKeys = CodingKeys
    static let databaseTableName = "prediction_cache"

    var imageHash: String
    var weightsID: String
    /// In the model's class order.
    var probabilities: [Float]
    var attention: Data
    var attentionWidth: Int
    var attentionHeight: Int
    var gradcam: Data?
    var gradcamWidth: Int?
    var gradcamHeight: Int?
    var createdAt: Date
    /// Member ids used, comma-separated (v2; nil in v1 rows: a single model without a training record).
    var members: String?
    var memberCount: Int?
    var seenInTraining: Bool?
    var signaturesKnown: Bool?
    /// The localiser's boxes as JSON, `[[x0, y0, x1, y1, score], …]` normalised, best first (v5); nil for a model
    /// without a localiser.
    var detections: String?
    /// The crop classifiers' crop and maps as JSON, `{"region": [x0, y0, x1, y1], "width": w, "height": h,
    /// "maps": {method: [values]}}` (v5); nil for a model without a crop stage.
    var crop: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case imageHash, weightsID, probabilities, attention, attentionWidth, attentionHeight, gradcam, gradcamWidth
        case gradcamHeight, createdAt, members, memberCount, seenInTraining, signaturesKnown, detections, crop
    }

    /// `crop`'s JSON.
    struct StoredCrop: Codable {
        var region: [Double]
        var width: Int
        var height: Int
        var maps: [String: [Float]]
    }

    init(_ prediction: Prediction, imageHash: String, weightsID: String, createdAt: Date = Date()) {
        self.imageHash = imageHash
        self.weightsID = weightsID
        probabilities = prediction.probabilities
        attention = FloatBlob.encode(prediction.attention.values)
        attentionWidth = prediction.attention.width
        attentionHeight = prediction.attention.height
        let maps = CAMMethod.all.compactMap { prediction.map($0) }
        let complete = maps.count == CAMMethod.all.count
        let stored = complete ? maps : prediction.gradcam.map { [$0] } ?? []
        gradcam = stored.isEmpty ? nil : FloatBlob.encode(stored.flatMap(\.values))
        gradcamWidth = stored.first?.width
        gradcamHeight = stored.first?.height
        self.createdAt = createdAt
        members = prediction.membership.used.map(String.init).joined(separator: ",")
        memberCount = prediction.membership.memberCount
        seenInTraining = prediction.membership.seenInTraining
        signaturesKnown = prediction.membership.signaturesKnown
        detections = prediction.detections.flatMap { ds in
            try? StoreJSON.string(ds.map { [$0.box.x0, $0.box.y0, $0.box.x1, $0.box.y1, Double($0.score)] })
        }
        crop = prediction.crop.flatMap { c in
            let first = c.maps.values.first
            return try? StoreJSON.string(StoredCrop(region: [c.region.x0, c.region.y0, c.region.x1, c.region.y1],
                                                    width: first?.width ?? 0, height: first?.height ?? 0,
                                                    maps: c.maps.mapValues(\.values)))
        }
    }

    /// The prediction, or nil when the row is damaged (a cache miss: the runner recomputes and overwrites it).
    var prediction: Prediction? {
        guard let attentionMap = FloatBlob.featureMap(attention, width: attentionWidth, height: attentionHeight)
        else { return nil }
        var maps: [String: FeatureMap] = [:]
        if let gradcam {
            guard let width = gradcamWidth, let height = gradcamHeight, width >= 0, height >= 0,
                  let values = FloatBlob.decode(gradcam) else { return nil }
            let size = width * height
            let methods = values.count == size ? [CAMMethod.gradCAM]
                : values.count == size * CAMMethod.all.count ? CAMMethod.all : []
            guard !methods.isEmpty else { return nil }
            for (k, method) in methods.enumerated() {
                maps[method.id] = FeatureMap(width: width, height: height, values: Array(values[k * size..<(k + 1) * size]))
            }
        }
        var membership = Membership.untracked
        if let members, let memberCount {
            let ids = members.split(separator: ",").compactMap { Int($0) }
            guard !ids.isEmpty, memberCount >= ids.count else { return nil }
            membership = Membership(used: ids, memberCount: memberCount, seenInTraining: seenInTraining ?? false,
                                    signaturesKnown: signaturesKnown ?? false)
        }
        var prediction = Prediction(probabilities: probabilities, attention: attentionMap, gradcam: nil, membership: membership)
        prediction.maps = maps
        if let detections {
            guard let rows = try? StoreJSON.decoder.decode([[Double]].self, from: Data(detections.utf8)),
                  rows.allSatisfy({ $0.count == 5 }) else { return nil }
            let decoded = rows.map { Detection(box: ImageBox(x0: $0[0], y0: $0[1], x1: $0[2], y1: $0[3]), score: Float($0[4])) }
            // A box that could not be drawn is a damaged row (recomputed), never a silently different box.
            guard decoded.allSatisfy({ $0.box.isUsable && $0.score.isFinite }) else { return nil }
            prediction.detections = decoded
        }
        if let crop {
            guard let stored = try? StoreJSON.decoder.decode(StoredCrop.self, from: Data(crop.utf8)), stored.region.count == 4,
                  stored.width >= 0, stored.height >= 0,
                  stored.maps.values.allSatisfy({ $0.count == stored.width * stored.height }) else { return nil }
            let region = ImageBox(x0: stored.region[0], y0: stored.region[1], x1: stored.region[2], y1: stored.region[3])
            guard region.isUsable else { return nil }
            prediction.crop = CropView(region: region, maps: stored.maps.mapValues {
                FeatureMap(width: stored.width, height: stored.height, values: $0)
            })
        }
        return prediction
    }
}

/// Float32 arrays as little-endian BLOBs.
enum FloatBlob {
    static func encode(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for value in values {
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
        }
        return data
    }

    static func decode(_ data: Data?) -> [Float]? {
        guard let data, data.count % 4 == 0 else { return nil }
        var values = [Float](repeating: 0, count: data.count / 4)
        data.withUnsafeBytes { raw in
            for i in values.indices {
                values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        }
        return values
    }

    static func featureMap(_ data: Data?, width: Int?, height: Int?) -> FeatureMap? {
        guard let width, let height, width >= 0, height >= 0, let values = decode(data),
              values.count == width * height else { return nil }
        return FeatureMap(width: width, height: height, values: values)
    }
}
