/// Writes the reviewed-cases CSV (ReviewCSV in the app; a fake in tests).
public protocol DecisionExporter {
    /// `split`: only that split's decisions; nil for every split.
    func export(reviewer: String, split: String?, to path: String) throws -> Int
}

/// Sends one reviewed case's findings back to where it came from (a PACS: `P`); what was done, in one line.
public protocol FindingsSending: AnyObject {
    /// `window`: the window on screen (centre, width in modality units), or nil for the image's own.
    func send(case index: Int, window: (center: Double, width: Double)?) throws -> String
}
