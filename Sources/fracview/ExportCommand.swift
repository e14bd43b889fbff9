import ArgumentParser
import Datasets
import Foundation
import Store

/// `fracview export`: the reviewed-cases CSV straight from the review database, without the TUI.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the reviewed cases of a review database as CSV.",
        discussion: """
            One row per reviewed case (RFC 4180, UTF-8 with BOM so Excel reads accents, CRLF line ends), with the \
            image path, split, ground truth, prediction, confidence, every class probability, status, the \
            reviewer's label and note, reviewer, role (reader or adjudicator), read mode (open, blind, blind-model), \
            reviewed_at (UTC) and weights id. The file is replaced atomically. A database with several reviewers \
            needs --reviewer NAME or --all-reviewers (long format: one row per case and reader).
            """)

    @Option(name: .long, help: ArgumentHelp("Review database: a file or a postgres:// URL (default: the bundled sample's).",
                                            valueName: "FILE|URL"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("Only this reviewer's decisions.", valueName: "NAME"))
    var reviewer: String?

    @Flag(name: .long, help: "Every reader's and adjudicator's decisions, one row per case and reader, cases in order.")
    var allReviewers = false

    @Option(name: .long, help: ArgumentHelp("Only this split (train, valid, test).", valueName: "NAME"))
    var split: String?

    @Option(name: .long, help: ArgumentHelp(
        "Dataset root, to write absolute image paths (default: the root recorded in the database).", valueName: "DIR"))
    var dataset: String?

    @Flag(name: .long, help: "Write image paths relative to the dataset root.")
    var relativePaths = false

    @Flag(name: .long, help: "Omit the UTF-8 byte-order mark (for tools that show it as junk in the first header).")
    var noBOM = false

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("CSV file to write.", valueName: "FILE"))
    var output: String

    func run() throws {
        if allReviewers && reviewer != nil { throw ValidationError("--reviewer and --all-reviewers exclude each other") }
        let dbPath = try db ?? Self.defaultDatabase()
        let store: DecisionStore
        do {
            store = try StoreOpening.open(dbPath, readOnly: true)
        } catch {
            throw CommandFailure("\(error)")
        }
        if reviewer == nil && !allReviewers {
            // A team's database: which readers go in the file must be the user's choice, not a surprise.
            let known = try store.reviewers()
            if known.count > 1 {
                throw CommandFailure("\(store.location) holds \(known.count) reviewers (\(known.prefix(8).joined(separator: ", "))\(known.count > 8 ? ", …" : "")): "
                                  + "pass --reviewer NAME, or --all-reviewers for one row per case and reader")
            }
        }
        let read = try store.readDecisions(reviewer: reviewer)
        // A damaged row is named and the rest exported, so one bad row never blocks a reviewer's work.
        for problem in read.problems { Console.error("warning: \(problem)") }
        var decisions = read.decisions
        if let split { decisions = decisions.filter { $0.split == split } }
        if allReviewers { decisions = ReviewCSV.longFormat(decisions) }
        if decisions.isEmpty {
            let who = reviewer.map { " by reviewer '\($0)'" } ?? ""
            let known = try store.reviewers()
            let hint = reviewer != nil && !known.isEmpty ? " (reviewers: \(known.joined(separator: ", ")))" : ""
            throw CommandFailure("no reviewed cases\(who)\(split.map { " in split '\($0)'" } ?? "") in \(store.location)\(hint)")
        }
        let classes = try store.classes()
        let root = relativePaths ? nil : (try dataset ?? store.datasetRoot())
        try ReviewCSV.write(decisions, classes: classes, datasetRoot: root, to: output, byteOrderMark: !noBOM)
        Console.line("wrote \(decisions.count) reviewed case\(decisions.count == 1 ? "" : "s") to \(output)")
    }

    /// The bundled sample's database (samples/hbfmid-test/fracview-review.sqlite), found like the sample itself.
    static func defaultDatabase() throws -> String {
        guard let sample = BundledSample.locate() else {
            throw CommandFailure("no --db given and the bundled sample (\(BundledSample.relativePath)) was not found: pass --db FILE")
        }
        let path = ReviewStore.defaultPath(datasetRoot: sample)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("no review database at \(path) (review the sample first, or pass --db FILE)")
        }
        return path
    }
}
