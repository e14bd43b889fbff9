import Model

/// How a prediction's membership reads on the screen and in the commands' output (text for people, so it lives
/// in the review layer, not in the model).
extension Membership {
    /// For the header: "held-out (1/5)", "⚠ seen in training", or "training set unknown".
    public var label: String {
        if seenInTraining { return "⚠ seen in training" }
        if !signaturesKnown { return "training set unknown" }
        return "held-out (\(used.count)/\(memberCount))"
    }
}
