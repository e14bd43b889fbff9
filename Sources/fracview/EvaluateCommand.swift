import ArgumentParser
import Foundation
import Imaging
import Model
import Review

/// `fracview evaluate`: the notebook's report (and more) for one split.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate the classifier on a dataset split: per-class metrics, CIs, calibration, errors.",
        discussion: """
        Unlabelled cases (empty or missing label files) are excluded from the metrics and counted. The \
        temperature is fitted on the valid split when the dataset (or manifest) has one.
        """)

    @Argument(help: "Dataset folder (data.yaml + splits). Default: the bundled sample.")
    var dataset: String?

    @Option(help: "Split to evaluate: test, valid or train.")
    var split = "test"

    @Option(help: "Split manifest (CSV path,split) that selects the cases instead of the folders.")
    var manifest: String?

    @Option(help: "Model weights (.safetensors). Default: the shipped model.")
    var weights: String?

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Option(help: "Write confusion-matrix.png, reliability.png and cases.csv to DIR.")
    var out: String?

    func run() throws {
        do { try evaluate() } catch let error as DatasetError {
            FileHandle.standardError.write(Data("fracview evaluate: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("fracview evaluate: \(message)\n".utf8))
        return ExitCode(1)
    }

    private func evaluate() throws {
        guard let root = dataset ?? BundledSample.locate() else { throw fail(BundledSample.missingMessage) }
        let ds = try YOLODataset.open(root: root)
        for p in ds.problems.prefix(5) { FileHandle.standardError.write(Data("warning: \(p)\n".utf8)) }

        let selected: [DatasetCase], validation: [DatasetCase]?
        if let manifest {
            let table = try SplitManifest.read(path: manifest)
            selected = ds.allCases.filter { table[$0.relativePath] == split }
            let valid = ds.allCases.filter { table[$0.relativePath] == "valid" }
            validation = valid.isEmpty ? nil : valid
            guard !selected.isEmpty else { throw fail("\(manifest) lists no case of split \"\(split)\" present in \(ds.root)") }
        } else {
            selected = try ds.cases(split: split)
            validation = ds.splits.contains("valid") ? try ds.cases(split: "valid") : nil
        }
        guard let weightsPath = weights ?? DefaultWeights.locate() else { throw fail(DefaultWeights.missingMessage) }
        let classifier: FractureClassifier
        do { classifier = try FractureClassifier(contentsOf: weightsPath) } catch { throw fail("\(error)") }
        let mapping = try EvaluationRunner.classMapping(datasetClasses: ds.classes, modelClasses: classifier.info.classes,
                                                        cases: selected + (validation ?? []))
        let bar = ProgressBar()
        let outcome = EvaluationRunner.run(cases: selected, classifier: classifier, mapping: mapping,
                                           stage: split, progress: bar.handler)
        var validOutcome: EvaluationRunner.Outcome?
        if let validation {
            validOutcome = split == "valid" ? outcome
                : EvaluationRunner.run(cases: validation, classifier: classifier, mapping: mapping,
                                       stage: "valid (T)", progress: bar.handler)
        }
        bar.finish()
        let note = validation == nil
            ? "no valid split in \(manifest == nil ? "this dataset" : "the manifest"): temperature not fitted (ECE is uncalibrated)"
            : nil
        var report = EvaluationReport(cases: outcome.evaluated, classes: classifier.info.classes,
                                      validation: validOutcome?.evaluated, validationNote: note,
                                      dataset: ds.root, split: split + (manifest.map { " (manifest \($0))" } ?? ""),
                                      weightsID: classifier.info.weightsID)
        report.undecodable = outcome.undecodable
        if split == "valid", report.temperature != nil {
            FileHandle.standardError.write(Data("note: the temperature was fitted on this same valid split\n".utf8))
        }

        if let out {
            try writeOutputs(report: report, cases: outcome.evaluated, to: out)
        }
        if json {
            FileHandle.standardOutput.write(try report.json())
            print()
        } else {
            print(EvaluationText.render(report), terminator: "")
            if let out { print("\nWrote \(out)/confusion-matrix.png, \(out)/reliability.png, \(out)/cases.csv") }
        }
    }

    private func writeOutputs(report: EvaluationReport, cases: [EvaluatedCase], to dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try PNGWriter.write(EvaluationFigures.confusionMatrix(report), to: dir + "/confusion-matrix.png")
            try PNGWriter.write(EvaluationFigures.reliabilityDiagram(report), to: dir + "/reliability.png")
            let table = EvaluationCaseTable.render(cases: cases, classes: report.classes, temperature: report.temperature)
            try Data(table.utf8).write(to: URL(fileURLWithPath: dir + "/cases.csv"), options: .atomic)
        } catch {
            throw fail("cannot write to \(dir): \(error)")
        }
    }
}
