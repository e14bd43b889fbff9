import ArgumentParser
import Foundation
import Review

/// `fracview export`: the reviewed-cases CSV straight from the review database, without the TUI.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the reviewed cases of a review database as CSV.",
        discussion: """
            One row per reviewed case (RFC 4180, UTF-8 with BOM so Excel reads accents, CRLF line ends), with the \
            image path, split, ground truth, prediction, confidence, every class probability, status, the \
            reviewer's label and note, reviewer, reviewed_at (UTC) and weights id. The file is replaced atomically.
            """)

    @Option(name: .long, help: ArgumentHelp("Review database (default: the bundled sample's).", valueName: "FILE"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("Only this reviewer's decisions (default: all reviewers).", valueName: "NAME"))
    var reviewer: String?

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
        let dbPath = try db ?? Self.defaultDatabase()
        let store: ReviewStore
        do {
            store = try ReviewStore(path: dbPath, readOnly: true)
        } catch {
            throw ExportError("\(error)")
        }
        let read = try store.readDecisions(reviewer: reviewer)
        // A damaged row is named and the rest exported, so one bad row never blocks a reviewer's work.
        for problem in read.problems { Console.error("warning: \(problem)") }
        var decisions = read.decisions
        if let split { decisions = decisions.filter { $0.split == split } }
        if decisions.isEmpty {
            let who = reviewer.map { " by reviewer '\($0)'" } ?? ""
            let known = try store.reviewers()
            let hint = reviewer != nil && !known.isEmpty ? " (reviewers: \(known.joined(separator: ", ")))" : ""
            throw ExportError("no reviewed cases\(who)\(split.map { " in split '\($0)'" } ?? "") in \(dbPath)\(hint)")
        }
        let classes = try store.classes()
        let root = relativePaths ? nil : (try dataset ?? store.datasetRoot())
        try ReviewCSV.write(decisions, classes: classes, datasetRoot: root, to: output, byteOrderMark: !noBOM)
        Console.line("wrote \(decisions.count) reviewed case\(decisions.count == 1 ? "" : "s") to \(output)")
    }

    /// The bundled sample's database (samples/hbfmid-test/fracview-review.sqlite), found like the sample itself.
    static func defaultDatabase() throws -> String {
        guard let sample = BundledSample.locate() else {
            throw ExportError("no --db given and the bundled sample (\(BundledSample.relativePath)) was not found: pass --db FILE")
        }
        let path = ReviewStore.defaultPath(datasetRoot: sample)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExportError("no review database at \(path) (review the sample first, or pass --db FILE)")
        }
        return path
    }
}

/// A one-line message; ArgumentParser prints it as "Error: …" and exits 1.
struct ExportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
