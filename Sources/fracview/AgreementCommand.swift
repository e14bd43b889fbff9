import ArgumentParser
import Datasets
import Foundation
import Metrics
import Reports
import Store
import Terminal

/// `fracview agreement`: how far the readers of a review database agree, with each other and with the labels.
struct AgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Inter-reader agreement: Cohen's and Fleiss' κ, percent and per-class agreement, with bootstrap CIs.",
        discussion: """
            Counts reader decisions only (adjudications are the settled answers). A flag names no class and is left \
            out of κ. Cohen's κ for every pair of readers and for each reader against the dataset labels; Fleiss' κ \
            on the cases every reader gave a class. CIs: percentile bootstrap over cases, or over the groups of a \
            folds manifest (--manifest), which is right when a dataset holds copies of one X-ray.
            """)

    @Option(name: .long, help: ArgumentHelp("Review database: a file or a postgres:// URL (default: the bundled sample's).",
                                            valueName: "FILE|URL"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("Only this split.", valueName: "NAME"))
    var split: String?

    @Option(name: .long, help: ArgumentHelp("A manifest with path and group columns: resample groups, not cases.",
                                            valueName: "CSV"))
    var manifest: String?

    @Option(name: .long, help: "Bootstrap resamples.")
    var resamples = Bootstrap.defaultResamples

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        guard resamples > 0, resamples <= 100_000 else { throw ValidationError("--resamples must be 1…100000") }
        let location = try db ?? ExportCommand.defaultDatabase()
        let store: DecisionStore
        do { store = try StoreOpening.open(location, readOnly: true) } catch { throw CommandFailure("\(error)") }
        let read = try store.readDecisions(reviewer: nil)
        for problem in read.problems { Console.error("warning: \(problem)") }
        var groups: [String: String]?
        if let manifest {
            let rows = try SplitManifest.readRows(path: manifest)
            groups = rows.compactMapValues(\.group)
            if groups!.isEmpty { throw CommandFailure("\(manifest) has no group column") }
        }
        let agreement = ReaderAgreement(decisions: read.decisions, classes: try store.classes(), split: split,
                                        groups: groups, resamples: resamples)
        if agreement.readers.isEmpty {
            throw CommandFailure("no reader decisions\(split.map { " in split '\($0)'" } ?? "") in \(store.location)")
        }
        if json {
            // Undefined κ values are nil in the report, never NaN: the one JSON writer serves.
            Console.json(JSONOutput.line(agreement))
        } else {
            Console.line(AgreementText.render(agreement, store: store.location), terminator: "")
        }
    }
}
