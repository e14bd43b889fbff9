import ArgumentParser
import Basics
import Datasets
import Foundation
import Imaging
import Inference
import Metrics
import Model
import Reports
import Terminal

/// `fracview evaluate`: the notebook's report (and more) for one split.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate the classifier on a dataset split: per-class metrics, CIs, calibration, errors.",
        discussion: """
        Unlabelled cases (empty or missing label files) are excluded from the metrics and counted. With a fold \
        ensemble each case is judged by the members that have not seen it; cases every member has seen are left \
        out and counted (held_out, seen). --split all scores every split together (the out-of-fold evaluation on \
        the training dataset). A manifest with a group column makes the CIs a group bootstrap. The temperature \
        is fitted on the valid split when the dataset (or manifest) has one and it is not being scored.
        """)

    @Argument(help: "Dataset folder (data.yaml + splits). Default: the bundled sample.")
    var dataset: String?

    @Option(help: "Split to evaluate: test, valid, train, or all (every split together).")
    var split = "test"

    @Option(help: "Manifest (CSV with path and split and/or group) that selects the cases, and their source groups.")
    var manifest: String?

    @Option(help: "Model weights (.safetensors) or a directory of fold members. Default: the shipped model.")
    var weights: String?

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Option(help: ArgumentHelp("""
        Compare CAM methods on the held-out cases: all, or a comma-separated list of \(CAMMethod.all.map(\.id).joined(separator: ", ")). \
        Each gets its pointing game, CAM mass in the label boxes and a deletion score (RISE's deletion test against \
        random removal), with group CIs; about 16 more forwards per case.
        """, valueName: "methods"))
    var camMethods: String?

    @Option(help: "Write confusion-matrix.png, reliability.png and cases.csv to DIR.")
    var out: String?

    func run() throws {
        do { try evaluate() } catch let error as DatasetError {
            Console.error("fracview evaluate: \(error)")
            throw ExitCode(1)
        }
    }

    private func fail(_ message: String) -> ExitCode {
        Console.error("fracview evaluate: \(message)")
        return ExitCode(1)
    }

    /// `--cam-methods`: all, or a list of method names.
    private func comparedMethods() throws -> [CAMMethod] {
        guard let camMethods else { return [] }
        if camMethods.lowercased() == "all" { return CAMMethod.all }
        return try camMethods.split(separator: ",").map { try CAMMethod.parse(String($0).trimmingCharacters(in: .whitespaces)) }
    }

    private func evaluate() throws {
        guard let root = dataset ?? BundledSample.locate() else { throw fail(BundledSample.missingMessage) }
        let ds = try YOLODataset.open(root: root)
        // A class list with a repeated id or name could score a label as another class: refuse, don't guess.
        if let ambiguity = ds.classListAmbiguity { throw fail("\(ambiguity): cannot score against this class list") }

        let selected: [DatasetCase], validation: [DatasetCase]?
        var groups: [String: String] = [:]
        let all = split == "all"
        if let manifest {
            let table = try SplitManifest.readRows(path: manifest)
            for (path, row) in table { if let g = row.group { groups[path] = g } }
            // Without a split column the manifest only lends groups: the folders still pick the split.
            let hasSplits = table.values.contains { $0.split != nil }
            if hasSplits {
                selected = ds.allCases.filter { c in table[c.relativePath].map { all ? true : $0.split == split } ?? false }
                let valid = ds.allCases.filter { table[$0.relativePath]?.split == "valid" }
                validation = valid.isEmpty || all ? nil : valid
            } else {
                selected = all ? ds.allCases : try ds.cases(split: split)
                validation = !all && split != "valid" && ds.splits.contains("valid") ? try ds.cases(split: "valid") : nil
            }
            guard !selected.isEmpty else { throw fail("\(manifest) lists no case of split \"\(split)\" present in \(ds.root)") }
        } else {
            selected = all ? ds.allCases : try ds.cases(split: split)
            validation = !all && ds.splits.contains("valid") ? try ds.cases(split: "valid") : nil
        }
        guard let weightsPath = weights ?? DefaultWeights.locate() else { throw fail(DefaultWeights.missingMessage) }
        let ensemble: ModelEnsemble
        do { ensemble = try ModelEnsemble(path: weightsPath) } catch { throw fail(TerminalSafeText.clean("\(error)")) }
        let classifier = EnsembleClassifier(ensemble)
        let mapping: [Int: Int]
        do {
            mapping = try EvaluationRunner.classMapping(datasetClasses: ds.classes, modelClasses: ensemble.info.classes,
                                                        cases: selected + (validation ?? []))
        } catch {
            // One line: the dataset's first problem (often the reason, e.g. placeholder class names) joins the error.
            throw fail(TerminalSafeText.clean("\(error)" + (ds.problems.first.map { " (\($0))" } ?? "")))
        }
        // Warnings once the run is sure to start: a command that fails says so in one line (docs/reliability.md).
        for p in ds.problems.prefix(5) { Console.error("warning: \(p)") }
        let bar = ProgressBar()
        let outcome = EvaluationRunner.run(cases: selected, classifier: classifier, mapping: mapping, groups: groups,
                                           camMethods: try comparedMethods(), stage: split, progress: bar.handler)
        var validOutcome: EvaluationRunner.Outcome?
        if let validation {
            validOutcome = split == "valid" ? outcome
                : EvaluationRunner.run(cases: validation, classifier: classifier, mapping: mapping,
                                       stage: "valid (T)", progress: bar.handler)
        }
        bar.finish()
        let note = all ? "--split all scores every split: no separate split to fit a temperature on"
            : validation == nil
            ? "no valid split in \(manifest == nil ? "this dataset" : "the manifest"): temperature not fitted (ECE is uncalibrated)"
            : nil
        var report = EvaluationReport(cases: outcome.evaluated, classes: ensemble.info.classes,
                                      validation: validOutcome?.evaluated, validationNote: note,
                                      dataset: ds.root, split: split + (manifest.map { " (manifest \($0))" } ?? ""),
                                      weightsID: ensemble.ensembleID)
        report.undecodable = outcome.undecodable
        if split == "valid", report.temperature != nil {
            Console.error("note: the temperature was fitted on this same valid split")
        }

        if let out {
            try writeOutputs(report: report, cases: outcome.evaluated, to: out)
        }
        if json {
            FileHandle.standardOutput.write(try report.json())
            Console.line()
        } else {
            Console.line(EvaluationText.render(report), terminator: "")
            if let out { Console.line("\nWrote \(out)/confusion-matrix.png, \(out)/reliability.png, \(out)/cases.csv") }
        }
    }

    private func writeOutputs(report: EvaluationReport, cases: [EvaluatedCase], to dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try PNGWriter.write(EvaluationFigures.confusionMatrix(report), to: dir + "/confusion-matrix.png")
            try PNGWriter.write(EvaluationFigures.reliabilityDiagram(report), to: dir + "/reliability.png")
            let table = EvaluationCaseTable.render(cases: cases, classes: report.classes, temperature: report.temperature)
            try AtomicFile.write(Data(table.utf8), to: dir + "/cases.csv")
        } catch {
            throw fail("cannot write to \(dir): \(error)")
        }
    }
}
