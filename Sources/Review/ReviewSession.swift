import Audit
import Basics
import Datasets
import Foundation
import Metrics
import Model
import Store

/// The review's state and rules, independent of drawing (unit-testable without a terminal).
public final class ReviewSession {
    public let cases: [DatasetCase]
    public let classes: [String]
    public let split: String
    public let reviewer: String
    /// Reading (open or blind) or adjudicating: the decisions are stored in this role.
    public let role: ReviewRole
    /// What the reader may see; blind modes hide the dataset label (`truths` is all nil) and others' decisions.
    public let readMode: ReadMode
    public var labelsHidden: Bool { readMode.hidesLabel }
    /// Every reader's and adjudicator's decisions in the split (refreshed with the store's change token).
    public private(set) var team: TeamReads = .empty
    private var teamRows: [ReviewDecision] = []
    /// Whether the store can take decisions; while it is lost, decisions are refused (nothing is queued).
    public private(set) var storeState: StoreConnection = .connected
    public private(set) var decisions: [String: ReviewDecision]
    public private(set) var filter: CaseFilter = .all
    /// Indices into `cases` that pass the filter.
    public private(set) var visible: [Int]
    /// Position in `visible`.
    public private(set) var position = 0
    public var matrixLabels: MatrixLabels = .dataset
    /// Whether the matrix counts cases the model has seen in training (off: it counts held-out cases only).
    public var matrixIncludesSeen = false
    public var autoAdvance: Bool
    private let store: DecisionStore
    private let predictions: PredictionSource
    private let indexByPath: [String: Int]
    /// Each case's dataset label as shown (nil = unlabelled, or hidden in a blind read), read once.
    public let truths: [Int?]
    /// The dataset labels themselves, recorded with each decision even when they are hidden.
    private let datasetTruths: [Int?]
    /// The label findings of the split, computed once from the cases (Review's audit summary).
    public let audit: AuditSummary
    /// Whether any case is unlabelled (the matrix then has a ∅ row).
    public var hasUnlabelled: Bool { audit.unlabelled > 0 }

    /// `labelProblems`: the split's label-file problems found when the dataset was read
    /// (`YOLODataset.splitProblems[split]`), counted in the audit headline.
    public init(cases: [DatasetCase], classes: [String], split: String, reviewer: String,
                store: DecisionStore, predictions: PredictionSource, labelProblems: Int = 0,
                autoAdvance: Bool = true, role: ReviewRole = .reader, readMode: ReadMode = .open) throws {
        self.cases = cases; self.classes = classes; self.split = split; self.reviewer = reviewer
        self.store = store; self.predictions = predictions; self.autoAdvance = autoAdvance
        self.role = role
        self.readMode = role == .adjudicator ? .open : readMode
        self.decisions = [:]
        self.storeToken = try? store.changeToken()
        self.visible = Array(cases.indices)
        var map: [String: Int] = [:]
        for (i, c) in cases.enumerated() { map[c.relativePath] = i }
        self.indexByPath = map
        self.datasetTruths = cases.map { $0.truth.classIndex }
        self.truths = self.readMode.hidesLabel ? cases.map { _ in nil } : datasetTruths
        self.audit = AuditSummary(cases: cases, split: split, labelProblems: labelProblems)
        adopt(try store.teamDecisions(split: split))
        // A blind reader's matrix can only be their own labels against the model.
        if self.readMode.hidesLabel { matrixLabels = .reviewed }
        if role == .adjudicator {
            matrixLabels = .reviewed
            setFilter(.disputed, fromTop: true)
            position = visible.firstIndex { decisions[cases[$0].relativePath] == nil } ?? 0
        } else {
            position = firstUnreviewedPosition() ?? 0
        }
    }

    // MARK: the current case

    public var isEmpty: Bool { visible.isEmpty }
    public var currentIndex: Int? { visible.isEmpty ? nil : visible[min(position, visible.count - 1)] }
    public var current: DatasetCase? { currentIndex.map { cases[$0] } }
    public func decision(for index: Int) -> ReviewDecision? { decisions[cases[index].relativePath] }
    public func prediction(for index: Int) -> Prediction? { predictions.state(at: index).prediction }

    public func firstUnreviewedPosition() -> Int? {
        visible.firstIndex { decisions[cases[$0].relativePath] == nil }
    }

    // MARK: moving

    public func move(by delta: Int) {
        guard !visible.isEmpty else { return }
        position = max(0, min(visible.count - 1, position + delta))
    }
    public func moveToFirst() { position = 0 }
    public func moveToLast() { position = max(0, visible.count - 1) }
    public func moveTo(caseIndex: Int) {
        if let p = visible.firstIndex(of: caseIndex) { position = p }
    }

    // MARK: filtering

    /// The label-issue ranking of the cases, computed when the "likely label errors first" order is chosen.
    public private(set) var labelIssues: [Int: LabelIssue] = [:]

    /// `fromTop`: start at the first case instead of keeping the current one (default: for a ranking, which is read
    /// from its top when chosen).
    public func setFilter(_ newFilter: CaseFilter, fromTop: Bool? = nil) {
        let keep = currentIndex
        filter = newFilter
        if newFilter == .likelyLabelErrors {
            // Ranked on the held-out predictions available now; seen-in-training and unlabelled cases are left out.
            let idx = cases.indices.filter { i in
                truths[i] != nil && (prediction(for: i).map { !$0.membership.seenInTraining } ?? false)
            }
            let ranked = LabelIssues.rank(probabilities: idx.map { prediction(for: $0)!.probabilities },
                                          labels: idx.map { truths[$0]! }, classCount: classes.count,
                                          paths: idx.map { cases[$0].relativePath })
            labelIssues = Dictionary(uniqueKeysWithValues: ranked.map { (idx[$0.index], $0) })
            visible = ranked.map { idx[$0.index] }
        } else {
            visible = cases.indices.filter { passes($0) }
        }
        let top = fromTop ?? (newFilter == .likelyLabelErrors)
        if !top, let keep, let p = visible.firstIndex(of: keep) { position = p } else { position = 0 }
    }

    /// Re-evaluates the filter (predictions arrive, decisions change) without losing the current case.
    public func refreshFilter() {
        guard filter != .all else { return }
        setFilter(filter, fromTop: false)
    }

    /// The label a case has for the matrix and the class filter, or nil if it is left out / unlabelled.
    public func matrixLabel(for index: Int) -> (included: Bool, label: Int?) {
        let c = cases[index]
        switch matrixLabels {
        case .dataset: return (true, truths[index])
        case .reviewed:
            // Blind: only this reader's own labels. Otherwise the team's: adjudicated, or agreed by its readers
            // (a solo reviewer's own decisions).
            guard labelsHidden else { return team.settledLabel(c.relativePath) }
            guard let d = decisions[c.relativePath], d.status != .flagged else { return (false, nil) }
            return (true, d.decidedClass)
        }
    }

    func passes(_ index: Int) -> Bool {
        let c = cases[index]
        let d = decisions[c.relativePath]
        switch filter {
        case .all: return true
        case .flagged: return d?.status == .flagged
        case .relabelled: return d?.status == .relabelled
        case .unreviewed: return d == nil
        case .disagreements:
            guard let p = prediction(for: index) else { return false }
            return truths[index] != p.predicted
        case .truthClass(let k):
            let m = matrixLabel(for: index)
            return m.included && m.label == k
        case .cell(let t, let pc):
            let m = matrixLabel(for: index)
            guard m.included, m.label == t, let p = prediction(for: index) else { return false }
            return p.predicted == pc
        case .likelyLabelErrors: return labelIssues[index] != nil
        case .disputed: return team.isDisputed(c.relativePath)
        }
    }

    // MARK: the confusion matrix

    /// Labelled cases in Review's `ConfusionMatrix` (truth × predicted), unlabelled ones as one extra row of
    /// predicted counts. Only cases with a prediction count. Cases seen in training are left out unless
    /// `matrixIncludesSeen` (see `matrixSeenCount`).
    public func confusionMatrix() -> LiveConfusionMatrix {
        var m = LiveConfusionMatrix(classCount: classes.count)
        for i in cases.indices {
            guard let p = prediction(for: i), p.predicted < classes.count else { continue }
            if p.membership.seenInTraining && !matrixIncludesSeen { continue }
            let label = matrixLabel(for: i)
            guard label.included else { continue }
            if let truth = label.label, truth < classes.count {
                m.labelled.add(truth: truth, predicted: p.predicted)
            } else {
                m.unlabelled[p.predicted] += 1
            }
        }
        return m
    }

    /// Cases with a prediction that the model has seen in training (the matrix leaves them out by default).
    public var matrixSeenCount: Int {
        cases.indices.filter { prediction(for: $0)?.membership.seenInTraining ?? false }.count
    }

    // MARK: counts

    public struct Counts: Equatable { public var reviewed = 0, accepted = 0, flagged = 0, relabelled = 0 }
    public var counts: Counts {
        var c = Counts()
        for d in decisions.values {
            c.reviewed += 1
            switch d.status {
            case .accepted: c.accepted += 1
            case .flagged: c.flagged += 1
            case .relabelled: c.relabelled += 1
            }
        }
        return c
    }

    /// The audit's findings for this split ("3 unlabelled · 2 multi-class"), or nil when clean.
    public var auditHeadline: String? { labelsHidden || sourceNote != nil ? nil : audit.findings }
    /// What the case source says of itself, in place of the label audit (a PACS: no labels to audit, and the
    /// objects it left out): "PACS · 1 non-image skipped".
    public var sourceNote: String?

    // MARK: deciding (every decision is committed to the store before the screen changes)

    public enum DecisionError: OneLineError, Equatable {
        case unlabelledAccept
        /// `a` in a blind read: there is no label shown to accept.
        case blindAccept
        /// The store's server is unreachable: the decision was not made (nothing is queued behind the reviewer's back).
        case storeUnavailable(String)
        public var message: String {
            switch self {
            case .unlabelledAccept: return "unlabelled case: pick a class (0–9 or c) or flag it (f)"
            case .blindAccept: return "blind read: a is off · pick the class you see (0–9, c) or flag (f)"
            case .storeUnavailable(let why): return "NOT saved: \(why) · decisions are refused until it is back (reconnecting)"
            }
        }
    }

    /// Records a decision for the current case. `label` is the corrected class for relabelling.
    /// Relabelling to the dataset's own label is an accept.
    public func decide(_ status: ReviewStatus, label: Int? = nil, note: String? = nil) throws {
        guard let index = currentIndex else { return }
        let c = cases[index]
        if status == .accepted && labelsHidden { throw DecisionError.blindAccept }
        try requireStore()
        var status = status
        var label = label
        // Stored as it is: a blind pick that equals the hidden label is an accept (the reader is not told).
        let truth = datasetTruths[index]
        if status == .relabelled, let l = label, l == truth { status = .accepted; label = nil }
        if status == .accepted && truth == nil { throw DecisionError.unlabelledAccept }
        let prediction = prediction(for: index)
        let decision = ReviewDecision(
            caseID: c.relativePath, split: split, reviewer: reviewer, status: status,
            truth: truth, predicted: prediction?.predicted, probabilities: prediction?.probabilities ?? [],
            reviewerLabel: status == .relabelled ? label : nil,
            note: note ?? decisions[c.relativePath]?.note ?? "",
            reviewedAt: Date(), weightsID: predictions.weightsID, role: role, readMode: readMode)
        try commit(decision)
        advanceAfterDecision(from: index)
    }

    /// Saves a note: on a decided case it updates the decision; an undecided case is flagged with the note
    /// (a note means "someone should look at this").
    public func setNote(_ note: String) throws {
        guard let index = currentIndex else { return }
        let c = cases[index]
        if var d = decisions[c.relativePath] {
            try requireStore()
            d.note = note
            d.reviewedAt = Date()
            try commit(d)
        } else {
            let keep = autoAdvance
            autoAdvance = false
            defer { autoAdvance = keep }
            try decide(.flagged, note: note)
        }
    }

    private var storeToken: String?

    /// Records a decision; only once the store has committed it does the session (and so the screen) change.
    private func commit(_ decision: ReviewDecision) throws {
        do {
            try store.record(decision)
        } catch let error as ReviewStoreError where error.connectionLost {
            storeState = .lost(error.message)
            throw error
        }
        storeToken = try? store.changeToken() // our own write is not news
        adopt(teamRows.filter { !$0.sameKey(as: decision) } + [decision])
    }

    /// The split's rows as the store has them: the team's reads, and this reviewer's own decisions in this role
    /// (one read of the store serves both).
    private func adopt(_ rows: [ReviewDecision]) {
        teamRows = rows
        team = TeamReads(decisions: rows)
        var mine: [String: ReviewDecision] = [:]
        for d in rows where d.reviewer == reviewer && d.role == role { mine[d.caseID] = d }
        decisions = mine
    }

    /// Checks the store's connection (reconnecting when lost). Returns lines for the reviewer: the connection came
    /// back, or a decision whose commit was unanswered turned out stored or not. Called from the idle loop.
    public func pollStore() {
        let (state, notices) = store.pollConnection()
        if storeState != .connected && state == .connected {
            pendingNotices.append("reconnected to the review database: decisions are saved again")
            storeToken = nil // reload: others may have decided meanwhile, and an unanswered commit may be in
        }
        pendingNotices += notices
        storeState = state
    }

    private var pendingNotices: [String] = []

    /// What `pollStore` found out since the last call, for the status line.
    public func takeNotices() -> [String] {
        defer { pendingNotices = [] }
        return pendingNotices
    }

    /// Before a write: when the store was lost, try to reconnect now (the reviewer is waiting); refuse if it is
    /// still unreachable.
    private func requireStore() throws {
        if storeState != .connected { pollStore() }
        if case .lost(let why) = storeState { throw DecisionError.storeUnavailable(why) }
    }

    /// Cases this reviewer decided in this role, and how many readers the team has in the split.
    /// A reader counts themself from the start.
    public var teamProgress: (mine: Int, readers: Int) {
        (decisions.count, role == .reader ? Set(team.readers + [reviewer]).count : team.readers.count)
    }
    /// Picks up decisions written by another fracview process on the same database (a second window open as the
    /// same reviewer): returns true when this reviewer's decisions in the split changed, so the counts, the
    /// matrix and the filters stay true. Called from the idle loop; one small query when nothing changed.
    public func reloadIfChangedElsewhere() -> Bool {
        guard let token = try? store.changeToken(), token != storeToken else { return false }
        storeToken = token
        guard let rows = try? store.teamDecisions(split: split), rows != teamRows else { return false }
        let mine = decisions
        adopt(rows)
        refreshFilter()
        return decisions != mine
    }

    /// Undoes the reviewer's last decision and shows the case it affected.
    @discardableResult
    public func undo() throws -> String? {
        try requireStore()
        guard let path = try store.undoLast(reviewer: reviewer, role: role) else { return nil }
        adopt(try store.teamDecisions(split: split))
        storeToken = try? store.changeToken()
        refreshFilter()
        if let index = indexByPath[path] {
            if visible.firstIndex(of: index) == nil { setFilter(.all) }
            moveTo(caseIndex: index)
        }
        return path
    }

    private func advanceAfterDecision(from index: Int) {
        let before = visible
        refreshFilter()
        guard autoAdvance else { return }
        if filter != .all, visible != before {
            // The decided case left the filtered list: the case now at this position is the next one.
            if let next = before.firstIndex(of: index).flatMap({ p in before[(p + 1)...].first(where: { visible.contains($0) }) }) {
                moveTo(caseIndex: next)
            }
            return
        }
        move(by: 1)
    }
}
