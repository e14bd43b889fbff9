/// Which members of a model produced a case's prediction, and whether the case is held-out for them.
///
/// For a fold ensemble each member records the images it trained on (`TrainingSignatures`); a case's prediction is
/// the mean over the members that have *not* seen it. When every member has seen it, all of them are used and the
/// case is marked seen in training. Members without signatures (a notebook export) count as having seen nothing,
/// and `signaturesKnown` says so.
public struct Membership: Sendable, Equatable {
    /// The members averaged, by id (their `fold` when they have one, else their position), ascending.
    public var used: [Int]
    public var memberCount: Int
    public var seenInTraining: Bool
    /// False when no member carries training signatures: "held-out" is then an assumption, not a check.
    public var signaturesKnown: Bool

    public init(used: [Int], memberCount: Int, seenInTraining: Bool, signaturesKnown: Bool) {
        self.used = used; self.memberCount = memberCount; self.seenInTraining = seenInTraining
        self.signaturesKnown = signaturesKnown
    }

    /// A single model file with no training record.
    public static let untracked = Membership(used: [0], memberCount: 1, seenInTraining: false, signaturesKnown: false)

    /// Whether the prediction may be scored as held-out (unknown training sets count as held-out, as documented).
    public var isHeldOut: Bool { !seenInTraining }
}
