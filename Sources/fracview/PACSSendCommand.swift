import ArgumentParser
import Foundation
import Imaging
import PACS
import Store

/// `fracview pacs send URL`: every reviewed case that came from that PACS goes back into its study as a TID 1500
/// SR (the model's class and probability, the reviewer's decision, the box) and a presentation state (the boxes
/// on their own layers, a line of text, the window).
struct PACSSendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send the reviewed cases' findings back to the PACS (STOW-RS): a TID 1500 SR and a presentation state each.",
        discussion: """
            Only cases reviewed from this server (`fracview review URL …`) are sent, one SR and one Grayscale \
            Softcopy Presentation State per case, into the case's own study. Sending again is idempotent (the same \
            decision gives the same objects); a changed decision sends new ones that name the SR they supersede.
            """)

    @Argument(help: ArgumentHelp("The DICOMweb root the cases were reviewed from.", valueName: "URL"))
    var url: String

    @Option(help: ArgumentHelp("Review database: a file or a postgres:// URL. Default: \(ReviewStore.defaultFileName) in the current folder.",
                               valueName: "FILE|URL"))
    var db: String?

    @Option(help: ArgumentHelp("The local prediction cache (with a PostgreSQL --db). Default: \(ReviewStore.defaultFileName) in the current folder.",
                               valueName: "FILE"))
    var cache: String?

    @Option(help: "Whose decisions. Default: $USER.")
    var reviewer: String?

    @Option(help: "The split the decisions were recorded under.")
    var split = DICOMwebCaseSource.split

    @Option(help: "Model weights, to find the model's box when the prediction cache has none. Default: the shipped weights.")
    var weights: String?

    @OptionGroup var pacs: PACSOptions

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let client = try pacs.client(url: url, environment: env)
        let instanceCache = try pacs.cache(environment: env)
        let localPath = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(ReviewStore.defaultFileName)
        let store: DecisionStore
        let sameFileCache: PredictionCache?
        do { (store, sameFileCache) = try StoreOpening.openWithCache(db ?? localPath, readOnly: true) } catch { throw CommandFailure("\(error)") }
        let who = ReviewStore.reviewerName(reviewer, env: env)
        let classes = try store.classes()
        let decisions = try store.allDecisions(reviewer: who).filter {
            $0.split == split && DICOMwebCaseSource.instance(fromKey: $0.caseID, server: client.server) != nil
        }
        guard !decisions.isEmpty else {
            throw CommandFailure("\(store.location): no decisions of \(who) on cases from \(client.server.display) (split \(split))")
        }
        let predictionCache: PredictionCache? = {
            if let sameFileCache, cache == nil { return sameFileCache }
            return try? SQLitePredictionCache(path: cache ?? localPath)
        }()
        let gatherer = PACSFindingsGatherer(client: client, instanceCache: instanceCache, classes: classes,
                                            predictionCache: predictionCache, weights: weights)
        var findings: [CaseFindings] = []
        var warnings: [String] = []
        for d in decisions {
            do {
                // The CLI knows no window on screen: the presentation state keeps the image's own.
                let (f, warning) = try gatherer.findings(for: d, window: nil)
                findings.append(f)
                if let warning { warnings.append(warning) }
            } catch { throw CommandFailure("\(error)") }
        }
        for w in warnings { Console.error("warning: \(w)") }
        let report: FindingsSender.Report
        do { report = try FindingsSender(client: client, cache: instanceCache).send(findings) } catch {
            throw CommandFailure("\(error)")
        }
        var line = "sent \(report.stored) case\(report.stored == 1 ? "" : "s") to \(client.server.display) (an SR and a presentation state each)"
        if report.superseding > 0 { line += ", \(report.superseding) superseding an earlier SR" }
        if report.unchanged > 0 { line += "; \(report.unchanged) unchanged since last sent (stored again, same UIDs)" }
        Console.line(line)
        for (sop, why) in report.failed.sorted(by: { $0.key < $1.key }) { Console.error("not stored: \(sop): \(why)") }
        if !report.failed.isEmpty { throw CommandFailure("\(report.failed.count) case\(report.failed.count == 1 ? "" : "s") not stored") }
    }
}
