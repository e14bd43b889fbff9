import ArgumentParser
import Audit
import Basics
import Datasets
import Foundation
import Imaging
import Inference
import Metrics
import Model
import Reports

/// `fracview audit`: label problems, undecodable images, class counts and leakage between splits;
/// optionally writes a leak-free grouped split manifest.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit a YOLO dataset: label problems, class counts, leakage between splits.",
        discussion: """
        Finds missing/empty/bad label files (empty = unlabelled, never class 0), multi-class label files, \
        undecodable images, class counts per split, and valid/test images that are exact or near-duplicate \
        copies (flips, small rotations, brightness) of train images. The exit status is non-zero only when \
        nothing could be audited.
        """)

    @Argument(help: "Dataset folder (data.yaml + train/valid/test). Default: the bundled sample.")
    var dataset: String?

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Option(name: .customLong("write-split"), help: "Write a leak-free grouped split manifest (CSV path,split) to FILE.")
    var writeSplit: String?

    @Option(name: .customLong("write-folds"),
            help: "Write K grouped, class-stratified cross-validation folds (CSV path,group,class,fold) to FILE.")
    var writeFolds: String?

    @Option(help: "The number of folds for --write-folds.")
    var folds: Int = 5

    @Flag(name: .customLong("label-issues"),
          help: "Rank every labelled case by how likely its label is wrong (confident learning on the model's held-out probabilities).")
    var labelIssues = false

    @Option(help: "Model for --label-issues: weights file or fold-member directory. Default: the shipped model.")
    var weights: String?

    func validate() throws {
        guard (2...50).contains(folds) else { throw ValidationError("--folds must be between 2 and 50") }
    }

    func run() throws {
        guard let root = dataset ?? BundledSample.locate() else {
            Console.error("fracview audit: \(BundledSample.missingMessage)")
            throw ExitCode(1)
        }
        let ds: YOLODataset
        do { ds = try YOLODataset.open(root: root) } catch {
            Console.error("fracview audit: \(error)")
            throw ExitCode(1)
        }
        if labelIssues {
            try rankLabelIssues(ds)
            return
        }
        let bar = ProgressBar()
        let (report, survey) = DatasetAudit.run(dataset: ds, progress: bar.handler)
        var manifest: [(path: String, split: String)]?
        // The all-pairs near-duplicate search behind the groups runs once for both outputs.
        let grouping = writeSplit != nil || writeFolds != nil ? DatasetAudit.sourceGroups(survey: survey, progress: bar.handler) : nil
        if let writeSplit, let grouping {
            let rows = DatasetAudit.groupedSplit(dataset: ds, grouping: grouping)
            bar.finish()
            do { try SplitManifest.write(rows, to: writeSplit) } catch {
                Console.error("fracview audit: \(error)")
                throw ExitCode(1)
            }
            manifest = rows
        }
        var groupsText: String?
        if let writeFolds, let grouping {
            let (rows, groupsReport) = DatasetAudit.groupedFolds(dataset: ds, grouping: grouping, folds: folds)
            bar.finish()
            do { try GroupedFolds.write(rows, classes: ds.classes, to: writeFolds) } catch {
                Console.error("fracview audit: \(error)")
                throw ExitCode(1)
            }
            groupsText = "\nWrote \(folds) grouped folds \(TerminalSafeText.clean(writeFolds)) (\(rows.count) labelled images)\n"
                + groupsReport.text
        }
        bar.finish()
        if json {
            FileHandle.standardOutput.write(try report.json())
            Console.line()
        } else {
            Console.line(AuditText.render(report), terminator: "")
        }
        if let manifest, let writeSplit {
            let text = "\nWrote leak-free grouped split \(writeSplit) (\(manifest.count) rows)\n"
                + AuditText.manifestSummary(rows: manifest, dataset: ds)
            Console.errorText(text)
        }
        if let groupsText { Console.errorText(groupsText) }
        if report.fatal {
            Console.error("fracview audit: no image could be read in \(root)")
            throw ExitCode(1)
        }
    }

    /// `--label-issues`: every labelled case of every split, most likely label error first. Cases every model member
    /// has seen in training are listed last, unranked by the others' thresholds, and marked: their probabilities are
    /// not evidence about their labels.
    private func rankLabelIssues(_ ds: YOLODataset) throws {
        func fail(_ m: String) -> ExitCode {
            Console.error("fracview audit: \(TerminalSafeText.clean(m))"); return ExitCode(1)
        }
        guard let path = weights ?? DefaultWeights.locate() else { throw fail(DefaultWeights.missingMessage) }
        let ensemble: ModelEnsemble
        do { ensemble = try ModelEnsemble(path: path) } catch { throw fail("\(error)") }
        let cases = ds.allCases.filter { $0.truth.classIndex != nil }
        let mapping: [Int: Int]
        do {
            mapping = try EvaluationRunner.classMapping(datasetClasses: ds.classes, modelClasses: ensemble.info.classes, cases: cases)
        } catch { throw fail("\(error)") }
        let bar = ProgressBar()
        let outcome = EvaluationRunner.run(cases: cases, classifier: EnsembleClassifier(ensemble), mapping: mapping,
                                           stage: "held-out inference", progress: bar.handler)
        bar.finish()
        let classes = ensemble.info.classes
        let scored = outcome.evaluated.filter { $0.truth != nil }
        let probabilities = scored.map { Softmax.probabilities($0.logits).map(Float.init) }
        let heldOut = scored.indices.filter { !scored[$0].seen }, seen = scored.indices.filter { scored[$0].seen }
        func ranked(_ idx: [Int]) -> [(Int, LabelIssue)] {
            LabelIssues.rank(probabilities: idx.map { probabilities[$0] }, labels: idx.map { scored[$0].truth! },
                             classCount: classes.count, paths: idx.map { scored[$0].relativePath }).map { (idx[$0.index], $0) }
        }
        let rows = ranked(heldOut) + ranked(seen)
        if json {
            for (i, issue) in rows {
                Console.json(JSONOutput.line(LabelIssueLine(
                    image: scored[i].relativePath, given: classes[issue.given], suggested: classes[issue.suggested],
                    score: JSONOutput.finite(issue.score), flagged: issue.flagged,
                    selfConfidence: JSONOutput.finite(issue.selfConfidence), seenInTraining: scored[i].seen,
                    probabilities: probabilities[i].map(JSONOutput.finite))))
            }
        } else {
            let flagged = rows.filter { $0.1.flagged && !scored[$0.0].seen }.count
            Console.line("Likely label errors in \(TerminalSafeText.clean(ds.root)): \(heldOut.count) held-out labelled cases, "
                  + "\(flagged) flagged by confident learning" + (seen.isEmpty ? "" : "; \(seen.count) seen in training listed last"))
            Console.line("  score  flag  given → suggested                            image")
            for (i, issue) in rows {
                let arrow = "\(classes[issue.given]) → \(classes[issue.suggested])"
                Console.line(String(format: "  %.3f  ", issue.score) + (issue.flagged ? " ⚑   " : "     ")
                      + TerminalSafeText.clean(arrow).padding(toLength: 44, withPad: " ", startingAt: 0) + " "
                      + TerminalSafeText.clean(scored[i].relativePath) + (scored[i].seen ? "  (seen in training)" : ""))
            }
        }
        for u in outcome.undecodable { Console.error("undecodable: \(TerminalSafeText.clean(u))") }
    }
}

/// `fracview audit --label-issues --json`: one line per case.
struct LabelIssueLine: Encodable {
    let image: String, given: String, suggested: String
    let score: Double?, flagged: Bool, selfConfidence: Double?, seenInTraining: Bool
    let probabilities: [Float?]
    enum CodingKeys: String, CodingKey {
        case image, given, suggested, score, flagged, probabilities
        case selfConfidence = "self_confidence", seenInTraining = "seen_in_training"
    }
}
