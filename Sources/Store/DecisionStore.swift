import Foundation

/// Whether a store can be written now. SQLite is always connected; PostgreSQL can lose its server.
public enum StoreConnection: Equatable, Sendable {
    case connected
    /// Why not, in one line (with the URL shown without its password).
    case lost(String)
}

/// Where decisions live: one protocol, two implementations with the same schema and migrations (`StoreMigrations`) —
/// `ReviewStore` (SQLite, a file beside the dataset: one machine) and `PostgresReviewStore` (a server: a team).
///
/// Every `record` is one transaction, committed before it returns; a thrown error means the decision is not stored
/// (or, for a commit whose answer was lost with the connection, that the store could not say yet: see
/// `pollConnection`'s notices).
public protocol DecisionStore: AnyObject {
    /// The store for messages: a path, or a URL without its password.
    var location: String { get }
    /// Records the class names and the dataset root (a shared store refuses a dataset whose classes differ).
    func setSessionInfo(datasetRoot: String, classes: [String]) throws
    func classes() throws -> [String]
    func datasetRoot() throws -> String?
    /// Inserts or replaces the decision for (reviewer, role, split, caseID) and records it in the undo history.
    func record(_ decision: ReviewDecision) throws
    /// Reverts this reviewer's most recent decision in this role (never anyone else's); the case's id, or nil.
    @discardableResult func undoLast(reviewer: String, role: ReviewRole) throws -> String?
    func undoDepth(reviewer: String, role: ReviewRole) throws -> Int
    /// One reviewer's current decisions in a role and split, by case id.
    func decisions(reviewer: String, role: ReviewRole, split: String) throws -> [String: ReviewDecision]
    /// Every reader's and adjudicator's current decisions in a split, oldest first.
    func teamDecisions(split: String) throws -> [ReviewDecision]
    /// Every current decision (all splits) of one reviewer, or of all when nil, oldest first; with one line per
    /// row that could not be read in full.
    func readDecisions(reviewer: String?) throws -> (decisions: [ReviewDecision], problems: [String])
    /// Every reviewer with at least one current decision, sorted.
    func reviewers() throws -> [String]
    /// Changes whenever anyone records or undoes a decision (cheap to poll).
    func changeToken() throws -> String
    /// Checks the connection, reconnecting when it was lost. `notices`: what became known on reconnecting, e.g.
    /// whether a decision whose commit was not acknowledged was stored.
    func pollConnection() -> (state: StoreConnection, notices: [String])
}

extension DecisionStore {
    public func decisions(reviewer: String, split: String) throws -> [String: ReviewDecision] {
        try decisions(reviewer: reviewer, role: .reader, split: split)
    }
    @discardableResult public func undoLast(reviewer: String) throws -> String? { try undoLast(reviewer: reviewer, role: .reader) }
    public func undoDepth(reviewer: String) throws -> Int { try undoDepth(reviewer: reviewer, role: .reader) }
    /// Every current decision of a reviewer (all splits), or of all reviewers when nil, oldest first.
    public func allDecisions(reviewer: String?) throws -> [ReviewDecision] { try readDecisions(reviewer: reviewer).decisions }
}

extension ReviewStore: DecisionStore {
    public var location: String { path }
    public func pollConnection() -> (state: StoreConnection, notices: [String]) { (.connected, []) }
}
