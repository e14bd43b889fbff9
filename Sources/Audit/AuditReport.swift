import Foundation

/// A valid/test image that is a copy of an image in another split.
public struct LeakedImage: Codable, Sendable, Equatable {
    public let image: String
    public let twin: String
    public let twinSplit: String
    /// 1.0 for byte-identical files; otherwise the near-duplicate score (normalised correlation, ≥ threshold).
    public let similarity: Double
    public let exact: Bool
    enum CodingKeys: String, CodingKey { case image, twin, twinSplit = "twin_split", similarity, exact }
}

/// An image file that could not be decoded.
public struct UndecodableImage: Codable, Sendable, Equatable {
    public let path: String
    public let error: String
}

/// The findings for one split. Paths are relative to the dataset root.
public struct SplitAudit: Codable, Sendable {
    public let split: String
    /// Number of images.
    public let images: Int
    public let labelled: Int
    /// Every unlabelled case (missing, empty or bad label file).
    public let unlabelled: [String]
    public let missingLabels: [String]
    public let emptyLabels: [String]
    /// Label files with a bad line (wrong token count, class id or coordinates out of range).
    public let badLabels: [String]
    /// Label files without an image.
    public let missingImages: [String]
    public let multiClassLabels: [String]
    public let undecodable: [UndecodableImage]
    /// Class name → number of cases whose first label line is that class (every class listed, zeros too).
    public let classCounts: [String: Int]
    public let leaked: [LeakedImage]
    /// The splits this split was compared with for leakage (empty: not checked, e.g. train, or no train split).
    public let leakReference: [String]
    /// Byte-identical files inside this split (each extra copy once).
    public let duplicatesWithinSplit: [String]
    public let problems: [String]

    enum CodingKeys: String, CodingKey {
        case split, images, labelled, unlabelled, problems, leaked, undecodable
        case missingLabels = "missing_labels", emptyLabels = "empty_labels", badLabels = "bad_labels"
        case missingImages = "missing_images", multiClassLabels = "multi_class_labels"
        case classCounts = "class_counts", duplicatesWithinSplit = "duplicates_within_split"
        case leakReference = "leak_reference"
    }

    public var leakedFromTrain: Int { leaked.filter { $0.twinSplit == "train" }.count }
}

/// Everything `fracview audit` found.
public struct AuditReport: Codable, Sendable {
    public let dataset: String
    public let classes: [String]
    public let splitOrder: [String]
    public let splits: [String: SplitAudit]
    /// Dataset-level problems (data.yaml …), one line each.
    public let problems: [String]
    public let nearDuplicateThreshold: Double
    /// True when nothing could be audited (no images at all).
    public let fatal: Bool

    enum CodingKeys: String, CodingKey {
        case dataset, classes, splits, problems, fatal
        case splitOrder = "split_order", nearDuplicateThreshold = "near_duplicate_threshold"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
