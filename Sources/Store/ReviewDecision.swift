import Foundation

/// What the reviewer decided about a case.
public enum ReviewStatus: String, Sendable, CaseIterable, Codable {
    /// The reviewer agrees with the dataset label.
    case accepted
    /// The label looks wrong; needs relabelling by someone.
    case flagged
    /// The reviewer set a corrected label (`reviewerLabel`).
    case relabelled
}

/// In what capacity a decision was made. A reader reads cases (independently when blind); an adjudicator settles
/// the cases where readers disagree. One person may be both: the two are separate rows.
public enum ReviewRole: String, Sendable, CaseIterable, Codable {
    case reader
    case adjudicator
}

/// What the reader could see when deciding, so that agreement can be computed on independent reads only.
public enum ReadMode: String, Sendable, CaseIterable, Codable {
    /// The dataset label, the model and (outside blind mode) nothing of other readers: the normal review.
    case open
    /// `--blind`: neither the dataset label nor other readers' decisions; the model was shown.
    case blind
    /// `--blind --blind-model`: not the model either.
    case blindModel = "blind-model"

    public var hidesLabel: Bool { self != .open }
    public var hidesModel: Bool { self == .blindModel }
}

/// One decision, committed the moment it is made. Rows are keyed by (reviewer, role, split, caseID).
/// Codable: the stores read and write it through its coding keys (GRDB's records in SQLite, JSON in the undo
/// history of both stores).
public struct ReviewDecision: Sendable, Equatable, Codable {
    /// The case's key in its source: a dataset image's path relative to the dataset root, or a PACS instance's
    /// reference (`DICOMwebCaseSource`).
    public var caseID: String
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
    /// Stored with millisecond precision (ISO 8601 text, UTC).
    public var reviewedAt: Date
    public var weightsID: String
    public var role: ReviewRole
    public var readMode: ReadMode
    /// The undo history's JSON keys; each is stored in the column of its snake_case name (`column`).
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case caseID, split, reviewer, status, truth, predicted, probabilities, reviewerLabel, note, reviewedAt
        case weightsID, role, readMode

        /// The column it is stored in: "caseID" → "case_id", "weightsID" → "weights_id".
        var column: String { StoreColumns.snakeCase(rawValue) }
    }

    public init(caseID: String, split: String, reviewer: String, status: ReviewStatus, truth: Int?,
                predicted: Int?, probabilities: [Float], reviewerLabel: Int?, note: String,
                reviewedAt: Date, weightsID: String, role: ReviewRole = .reader, readMode: ReadMode = .open) {
        self.caseID = caseID; self.split = split; self.reviewer = reviewer; self.status = status
        self.truth = truth; self.predicted = predicted; self.probabilities = probabilities
        self.reviewerLabel = reviewerLabel; self.note = note; self.reviewedAt = reviewedAt; self.weightsID = weightsID
        self.role = role; self.readMode = readMode
    }

    /// Whether two decisions fill the same row (reviewer, role, split, case).
    public func sameKey(as other: ReviewDecision) -> Bool {
        reviewer == other.reviewer && role == other.role && split == other.split && caseID == other.caseID
    }

    /// The class this decision gives the case: the corrected label, or the dataset label it accepted;
    /// nil for a flag (the reader saw a problem but named no class).
    public var decidedClass: Int? {
        switch status {
        case .accepted: return truth
        case .relabelled: return reviewerLabel
        case .flagged: return nil
        }
    }
}
