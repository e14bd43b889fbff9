// CONTRACT (owned by the store work): the TUI and `fracview export` rely on these signatures. Stub bodies are replaced.
import Foundation
import Model

/// What the reviewer decided about a case.
public enum ReviewStatus: String, Sendable, CaseIterable {
    /// The reviewer agrees with the dataset label.
    case accepted
    /// The label looks wrong; needs relabelling by someone.
    case flagged
    /// The reviewer set a corrected label (`reviewerLabel`).
    case relabelled
}

/// One decision, committed the moment it is made. Rows are keyed by (reviewer, split, relativePath).
public struct ReviewDecision: Sendable, Equatable {
    public var relativePath: String
    public var split: String
    public var reviewer: String
    public var status: ReviewStatus
    /// Dataset ground truth at decision time (nil = unlabelled).
    public var truth: Int?
    /// The model's prediction and probabilities at decision time, so an export needs nothing but the database.
    public var predicted: Int?
    public var probabilities: [Float]
    /// The reviewer's corrected label (relabelled), or nil.
    public var reviewerLabel: Int?
    public var note: String
    public var reviewedAt: Date
    public var weightsID: String
    public init(relativePath: String, split: String, reviewer: String, status: ReviewStatus, truth: Int?,
                predicted: Int?, probabilities: [Float], reviewerLabel: Int?, note: String,
                reviewedAt: Date, weightsID: String) {
        self.relativePath = relativePath; self.split = split; self.reviewer = reviewer; self.status = status
        self.truth = truth; self.predicted = predicted; self.probabilities = probabilities
        self.reviewerLabel = reviewerLabel; self.note = note; self.reviewedAt = reviewedAt; self.weightsID = weightsID
    }
}

/// A model output cached per (image content hash, weights id), so reopening a split is instant.
public struct CachedPrediction: Sendable, Equatable {
    public var imageHash: String
    public var weightsID: String
    public var probabilities: [Float]
    public var attention: FeatureMap
    public var gradcam: FeatureMap?
    public init(imageHash: String, weightsID: String, probabilities: [Float], attention: FeatureMap, gradcam: FeatureMap?) {
        self.imageHash = imageHash; self.weightsID = weightsID; self.probabilities = probabilities
        self.attention = attention; self.gradcam = gradcam
    }
}

/// The review database: SQLite (GRDB) in WAL mode; every write is its own committed transaction,
/// so a kill -9 at any moment loses nothing already acknowledged.
public final class ReviewStore: @unchecked Sendable {
    /// Default file name, placed beside the dataset (its root folder) unless --db is given.
    public static let defaultFileName = "fracview-review.sqlite"

    /// Opens or creates the database. Throws a one-line error if the location can't be written.
    public init(path: String) throws { fatalError("TODO(store)") }

    /// Class names and dataset root recorded for exports (set when a review session starts).
    public func setSessionInfo(datasetRoot: String, classes: [String]) throws { fatalError("TODO(store)") }
    public func classes() throws -> [String] { fatalError("TODO(store)") }

    /// Inserts or replaces the decision for (reviewer, split, relativePath) and records it in the undo history.
    public func record(_ decision: ReviewDecision) throws { fatalError("TODO(store)") }
    /// Reverts the reviewer's most recent decision (restoring the case's previous decision, or none);
    /// returns the relative path of the case it affected, or nil if there was nothing to undo.
    @discardableResult
    public func undoLast(reviewer: String) throws -> String? { fatalError("TODO(store)") }
    /// The reviewer's current decisions in a split, by relative path.
    public func decisions(reviewer: String, split: String) throws -> [String: ReviewDecision] { fatalError("TODO(store)") }
    /// Every current decision of a reviewer (all splits), or of all reviewers when nil, oldest first.
    public func allDecisions(reviewer: String?) throws -> [ReviewDecision] { fatalError("TODO(store)") }

    public func cachedPrediction(imageHash: String, weightsID: String) throws -> CachedPrediction? { fatalError("TODO(store)") }
    public func storePrediction(_ prediction: CachedPrediction) throws { fatalError("TODO(store)") }
}

/// The reviewed-cases CSV (RFC 4180, UTF-8, header row, formula-injection neutralised, written atomically).
public enum ReviewCSV {
    public static func write(_ decisions: [ReviewDecision], classes: [String], datasetRoot: String?, to path: String) throws {
        fatalError("TODO(store)")
    }
}
